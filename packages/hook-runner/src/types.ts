/** Who takes the machine lock and why; shown to whoever finds the lock held (Juju's lock spec). */
export interface LockSpec {
  /** The worker taking the lock, e.g. `uniter`, `meterstatus`. */
  worker: string;
  /** Why, e.g. the hook name. */
  comment?: string;
  /** Cancels a pending acquisition; the acquire call then fails with kind `Cancelled`. */
  signal?: AbortSignal;
}

/** The record written into the lock file by the process holding the machine lock. */
export interface LockHolder {
  pid: number;
  worker: string;
  comment: string;
  /** ISO-8601 time the lock was taken. */
  acquiredAt: string;
  /** Random token telling this holding apart from any other by the same process. */
  token: string;
}

/** A held machine lock; releasing twice is harmless. */
export interface LockRelease {
  release(): Promise<void>;
}

/** The machine-wide hook lock every hook of an agent runs under. */
export interface HookLock {
  /** Waits for the lock (FIFO within this process) and returns a handle to release it. */
  acquire(spec: LockSpec): Promise<LockRelease>;
}

/** Options of {@link runHook}. */
export interface RunHookOptions {
  /** The charm directory; the hook is `<charmDir>/hooks/<hookName>`. */
  charmDir: string;
  /** The hook to run, e.g. `meter-status-changed`. */
  hookName: string;
  /** Hook-specific variables (JUJU_UNIT_NAME, JUJU_MODEL_UUID, JUJU_METER_STATUS, ...); they win over defaults. */
  env: Record<string, string>;
  /** The machine lock the hook runs under. */
  lock: HookLock;
  /** Lock holder label; defaults to worker `uniter` with the hook name as comment. */
  lockSpec?: { worker: string; comment?: string };
  /** Kills the hook (SIGTERM, then SIGKILL) when it runs longer; none by default, as in Juju. */
  timeoutMs?: number;
  /** Cancels a pending wait for the machine lock. A hook that already started runs to its end. */
  signal?: AbortSignal;
  /** OS variables copied from this process into the hook's environment; defaults to {@link DEFAULT_INHERITED_ENV}. */
  inheritEnv?: readonly string[];
  /** How long a timed-out hook gets between SIGTERM and SIGKILL; 5 s by default. */
  killGraceMs?: number;
}

/** What happened to a hook that was attempted and did not fail. */
export type HookResult =
  | { outcome: "ran"; hookName: string; exitCode: 0; stdout: string; stderr: string; durationMs: number }
  | { outcome: "skipped"; hookName: string; reason: "missing" | "not-executable" };

/** The error kinds a hook run can end with. */
export type HookErrorKind =
  /** The hook exited non-zero. */
  | "HookFailed"
  /** The hook was terminated by a signal it did not ask for (not a timeout of ours). */
  | "HookKilled"
  /** The hook ran longer than `timeoutMs` and was killed. */
  | "Timeout"
  /** The wait for the machine lock was cancelled. */
  | "Cancelled"
  /** The machine lock could not be taken (file system error). */
  | "LockFailed"
  /** The hook could not be started. */
  | "HookStartFailed"
  /** Bad options. */
  | "NotValid";
