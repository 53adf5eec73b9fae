export type { HookErrorDetails } from "./errors";
export { HookError, isHookError } from "./errors";
export type { AgentSocket, UnitHookEnvOptions } from "./hook-env";
export { newContextId, unitHookEnv } from "./hook-env";
export type { MachineLockOptions } from "./machine-lock";
export { MACHINE_LOCK_FILE, MachineLock } from "./machine-lock";
export { DEFAULT_INHERITED_ENV, hookEnvironment, runHook } from "./run-hook";
export type {
  HookErrorKind,
  HookLock,
  HookResult,
  LockHolder,
  LockRelease,
  LockSpec,
  RunHookOptions,
} from "./types";
