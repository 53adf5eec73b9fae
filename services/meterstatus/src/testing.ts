// A small fixture for tests that need the real service: the module on a real gRPC socket, a real database
// (migrated), an embedded event log in a folder, the outbox relay, and an injectable clock. Stopping and
// starting it again on the same folder, database and port is how tests take the service away and back.
import { create, toBinary } from "@bufbuild/protobuf";
import type { Clock } from "@concord/clock";
import type { Sql } from "@concord/db";
import { type EventLog, subjectFor } from "@concord/events";
import { ChangeEventSchema, Life } from "@concord/proto/events/v1/events";
import { startTestModule } from "@concord/runtime/testing";
import { meterstatusModule, startMeterStatus } from "./module";

/** Options of {@link startMeterStatusFixture}. */
export interface MeterStatusFixtureOptions {
  databaseUrl: string;
  /** Folder of the embedded event log; reuse it across restarts. */
  eventsDir: string;
  /** The service's clock (default: the wall clock). */
  clock?: Clock;
  /** `host:port` to listen on (default `127.0.0.1:0`); pass the old port to come back on it. */
  address?: string;
  /** Token secret; keep it across restarts so agents' tokens stay valid. */
  secret?: string;
}

/** A running service under test. */
export interface MeterStatusFixture {
  /** `127.0.0.1:<port>`. */
  address: string;
  port: number;
  adminToken: string;
  /** Issues a token for `admin`, `unit-<app>-<n>` or `application-<app>`. */
  issue(tag: string): Promise<string>;
  sql: Sql;
  events: EventLog;
  /** Appends a unit event as the relation service would, and waits until the service applied it. */
  unitEvent(modelUuid: string, unit: string, change?: "alive" | "dying" | "removed"): Promise<void>;
  /** Resolves once the outbox is published to the event log. */
  published(): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_SECRET = "meterstatus-fixture-secret";
const LIFE = { alive: Life.ALIVE, dying: Life.DYING } as const;

/** Starts the meterstatus module for a test; see {@link MeterStatusFixture}. */
export async function startMeterStatusFixture(
  options: MeterStatusFixtureOptions,
): Promise<MeterStatusFixture> {
  const fx = await startTestModule(
    { ...meterstatusModule, start: startMeterStatus },
    {
      ...options,
      secret: options.secret ?? DEFAULT_SECRET,
      pool: { max: 10, applicationName: "meterstatus-fixture" },
      shutdownGraceMs: 2000,
      relay: true,
    },
  );
  const { sql, events: log, running: service, tokens } = fx;
  return {
    address: fx.address,
    port: fx.port,
    adminToken: await tokens.issue("admin"),
    issue: (tag) => tokens.issue(tag),
    sql,
    events: log,
    async unitEvent(modelUuid, unit, change = "alive") {
      const event = create(ChangeEventSchema, {
        modelUuid,
        kind: "unit",
        id: unit,
        source: "relation",
        change:
          change === "removed"
            ? { case: "removed", value: true }
            : {
                case: "entity",
                value: {
                  kind: {
                    case: "unit",
                    value: { modelUuid, name: unit, application: unit.split("/")[0], life: LIFE[change] },
                  },
                },
              },
      });
      const { seq } = await log.append(subjectFor(event), toBinary(ChangeEventSchema, event));
      await service.unitEventsReached(seq);
    },
    published: () => fx.relay!.drained(),
    stop: fx.stop,
  };
}
