export { handleModelEvent, handleUnitEvent, startUnitConsumers } from "./consumer";
export { meterstatusModule, type RunningMeterStatus, startMeterStatus } from "./module";
export { type MeterStatusServerDeps, meterStatusHandlers } from "./server";
