export { EVENT_KIND, meterStatusEvent, modelChannel, SCHEMA } from "./events";
export {
  listUnits,
  readMetricsManager,
  readModelMeterStatus,
  readUnitStatuses,
  readWorkerState,
  recordMetricsSend,
  removeModel,
  removeUnit,
  setMetricsGracePeriod,
  setModelMeterStatus,
  setUnitMeterStatus,
  upsertUnit,
  writeWorkerState,
} from "./state";
export type { Db, UnitRow, UnitStatusRead } from "./types";
