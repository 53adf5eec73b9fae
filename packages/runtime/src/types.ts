import type { Clock } from "@concord/clock";
import type { MigrationSet, Sql } from "@concord/db";
import type { EventLog } from "@concord/events";
import type { ConcordServer, Logger, Metrics, TokenAuthority } from "@concord/grpc";

export type { Clock } from "@concord/clock";
export { systemClock } from "@concord/clock";

/** What the runtime hands a service module when it starts it. */
export interface ServiceDeps {
  /** Add the service's gRPC services here before the runtime starts listening. */
  server: ConcordServer;
  /** Pool to the database; a service touches only its own schema. */
  sql: Sql;
  /** The event log, for services that consume other services' events (producers write their outbox instead). */
  events: EventLog;
  logger: Logger;
  /** The process's metrics; register service metrics on `metrics.registry`. */
  metrics: Metrics;
  tokens: TokenAuthority;
  clock: Clock;
}

/** A running service module. */
export interface RunningService {
  /** Stops the module's background work (consumers, timers); the runtime closes the server and pools. */
  stop(): Promise<void>;
}

/**
 * One Concord service as the runtime sees it: its name, its migrations, and how to start it. The runtime applies
 * the migrations, runs the outbox relay of `migrations.schema` when `publishesEvents`, and serves what `start` adds.
 */
export interface ServiceModule {
  /** `relation`, `leadership`, `meterstatus` or `multiwatcher`. */
  name: string;
  migrations?: MigrationSet;
  /** Whether the service writes change events to `<schema>.outbox` (the runtime then relays them). */
  publishesEvents: boolean;
  start(deps: ServiceDeps): Promise<RunningService>;
}
