// A real relation service for tests: a fresh database with the migrations applied, the module started on a
// ConcordServer listening on a local port, clients with admin or unit tokens, and direct store access.
import type { DescService } from "@bufbuild/protobuf";
import type { TestDatabase } from "@concord/db";
import type { Consumer, EventLog } from "@concord/events";
import type { Client, TokenAuthority } from "@concord/grpc";
import { systemClock } from "@concord/runtime";
import { startTestModule } from "@concord/runtime/testing";
import { relationModule, startRelationService } from "./module";
import { RelationState } from "./store/state";

export { type SeedApplication, Seeder, type SeedRelation, type SeedUnit, snapshotModel } from "./store/seed";

/** A running relation service on a test database. */
export interface TestService {
  /** `127.0.0.1:<port>`. */
  address: string;
  db: TestDatabase;
  state: RelationState;
  tokens: TokenAuthority;
  /** The replica's event log (the leader projection consumes it). */
  events: EventLog;
  /** The consumer of `leader` events. */
  leaders: Consumer;
  /** A client of one service calling as `tag` (default admin). */
  client<S extends DescService>(service: S, tag?: string): Promise<Client<S>>;
  stop(): Promise<void>;
}

/**
 * Starts the service as the runtime would: database, migrations, module, server on an ephemeral port. With
 * `replicaOf`, a second replica on the first one's database (which the first one's `stop()` drops).
 */
export async function startTestService(options: { replicaOf?: TestService } = {}): Promise<TestService> {
  const primary = options.replicaOf;
  const service = await startTestModule(
    { ...relationModule, start: startRelationService },
    // A replica gets its own pool, as another process would: its LISTENs and transactions are its own.
    primary
      ? { databaseUrl: primary.db.url, pool: { max: 5, applicationName: "relation-replica" }, migrate: false }
      : {},
  );
  return {
    address: service.address,
    db: primary?.db ?? service.db!,
    state: new RelationState(service.sql, systemClock),
    tokens: service.tokens,
    events: service.events,
    leaders: service.running.leaders,
    client: service.client,
    stop: service.stop,
  };
}
