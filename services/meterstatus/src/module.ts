import { fileURLToPath } from "node:url";
import { ChannelNotifier } from "@concord/db";
import { MeterStatusService } from "@concord/proto/meterstatus/v1/meterstatus";
import type { RunningService, ServiceDeps, ServiceModule } from "@concord/runtime";
import { startUnitConsumers } from "./consumer";
import { meterStatusHandlers } from "./server";
import { SCHEMA } from "./store";

/** The running service; `unitEventsReached` tells tests when a unit event has been applied. */
export interface RunningMeterStatus extends RunningService {
  /** Resolves once the unit consumer has handled (or skipped) every event up to `seq`. */
  unitEventsReached(seq: number): Promise<void>;
}

/** Registers the gRPC service and starts the consumers of the relation service's unit and model events. */
export async function startMeterStatus(deps: ServiceDeps): Promise<RunningMeterStatus> {
  deps.server.add(
    MeterStatusService,
    meterStatusHandlers({ sql: deps.sql, clock: deps.clock, notifier: new ChannelNotifier(deps.sql) }),
  );
  const [units, models] = await startUnitConsumers({ log: deps.events, sql: deps.sql, logger: deps.logger });
  return {
    unitEventsReached: (seq) => units.reached(seq),
    async stop() {
      await units.stop();
      await models.stop();
    },
  };
}

/** The meterstatus service as the runtime runs it, standalone or inside the all-in-one controller. */
export const meterstatusModule: ServiceModule = {
  name: "meterstatus",
  migrations: { schema: SCHEMA, folder: fileURLToPath(new URL("../drizzle", import.meta.url)) },
  publishesEvents: true,
  start: startMeterStatus,
};
