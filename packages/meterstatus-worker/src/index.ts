export { ManualClock, systemClock } from "@concord/clock";
export type { ConnectedConfig } from "./connected";
export { ConnectedWorker, startConnectedWorker, validateConnectedConfig } from "./connected";
export type { MeterStatusWorkerErrorKind } from "./errors";
export { isMeterStatusWorkerError, MeterStatusWorkerError } from "./errors";
export type { GrpcMeterStatusClientOptions } from "./grpc-client";
export { GrpcMeterStatusClient } from "./grpc-client";
export type { IsolatedConfig } from "./isolated";
export {
  DEFAULT_AMBER_GRACE_MS,
  DEFAULT_RED_GRACE_MS,
  DISCONNECTED_INFO,
  IsolatedWorker,
  startIsolatedWorker,
  validateIsolatedConfig,
} from "./isolated";
export { nullLogger } from "./logger";
export type { MeterStatusManagerConfig, MeterStatusMode } from "./manifold";
export { MeterStatusManager, migrateDiskState, unitNameFromTag } from "./manifold";
export type { HookRunnerConfig } from "./runner";
export { METER_STATUS_CHANGED, newHookRunner } from "./runner";
export { blankState, ControllerState, DiskStateFile, formatState, parseState, STATE_FILE } from "./state";
export type { TriggerFactory, Triggers } from "./triggers";
export { getTriggers } from "./triggers";
export type {
  Clock,
  Disconnected,
  HookRunner,
  Logger,
  MeterStatus,
  MeterStatusClient,
  MeterStatusState,
  NotifyWatcher,
  StateReadWriter,
  Timer,
  Worker,
} from "./types";
export { WorkerState } from "./types";
