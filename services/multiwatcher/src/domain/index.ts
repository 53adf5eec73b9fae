// The multiwatcher's domain: the store, watchers and the inputs the service drives (no gRPC, SQL or NATS).
export { ManualClock, systemClock } from "@concord/clock";
export { entityKey, entityKinds, isEntityKind, keyString } from "./entity";
export {
  type ErrorKind,
  isStopped,
  MultiwatcherError,
  multiwatcherStoppedMessage,
  type StatusCode,
  watcherStoppedMessage,
} from "./errors";
export {
  defaultBookmarkIntervalMs,
  defaultRemovedRetentionMs,
  Multiwatcher,
  type ValidConfig,
  validateConfig,
} from "./multiwatcher";
export { controllerScope, inScope, isValidModelUUID, modelScope, parseScope } from "./scope";
export type * from "./types";
export { Watcher } from "./watcher";
