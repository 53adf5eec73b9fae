// Public face of @concord/leadership-tracker: the unit agent's leadership tracker and the uniter's
// leadership logic (remote state, resolver, hook context).
export { isKind, LeadershipError, type LeadershipErrorKind } from "./errors";
export { GrpcLeadershipClient, type GrpcLeadershipOptions } from "./grpc-claimer";
export { applicationOfUnit, DEFAULT_GUARANTEE_MS, Tracker } from "./tracker";
export type * from "./types";
export { HookLeadershipContext } from "./uniter/hook-context";
export { LeadershipRemoteState, type RemoteStateListener } from "./uniter/remote-state";
export {
  type HookPreparation,
  LEADER_ELECTED,
  LEADER_SETTINGS_CHANGED,
  nextLeadershipOp,
  prepareHook,
  runLeadershipOp,
  UniterError,
  type UniterErrorKind,
} from "./uniter/resolver";
export type * from "./uniter/types";
