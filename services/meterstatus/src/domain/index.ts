export type { MeterStatusCaller } from "./agent-view";
export { authorizeMeterStatusAccess, canAccessMeterStatus, toAgentMeterStatus } from "./agent-view";
export type { EffectiveMeterStatus } from "./effective-status";
export { unitEffectiveMeterStatus } from "./effective-status";
export type { MeterStatusErrorKind } from "./errors";
export { isMeterStatusError, MeterStatusError } from "./errors";
export type { MeterStatus } from "./meter-status";
export {
  combineMeterStatus,
  isMoreSevere,
  MeterStatusCode,
  parseMeterStatusCode,
  SEVERITY_ORDER,
  severity,
} from "./meter-status";
export type { MetricsManagerState } from "./metrics-manager";
export {
  applyCollectorGracePeriod,
  CONSECUTIVE_ERROR_THRESHOLD,
  DEFAULT_GRACE_PERIOD_MS,
  metricsManagerStatus,
  newMetricsManager,
  recordFailedSend,
  recordSuccessfulSend,
  setGracePeriod,
} from "./metrics-manager";
export type { Life, SettableMeterStatusCode } from "./set-meter-status";
export {
  initialMeterStatus,
  planModelMeterStatus,
  planUnitMeterStatus,
  validateMeterStatusCode,
} from "./set-meter-status";
export type { MeterStatusDisplay } from "./status-display";
export { meterStatusDisplay } from "./status-display";
