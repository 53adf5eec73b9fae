// A real relation service for tests: a fresh database with the migrations applied, the module started on a
// ConcordServer listening on a local port, clients with admin or unit tokens, and direct store access.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { connect, createTestDatabase, migrate, type TestDatabase } from "@concord/db";
import { type Consumer, type EventLog, openEmbeddedLog } from "@concord/events";
import {
  type Client,
  ConcordServer,
  createClient,
  createLogger,
  Metrics,
  TokenAuthority,
} from "@concord/grpc";
import { systemClock } from "@concord/runtime";
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
  const owner = !options.replicaOf;
  const db = options.replicaOf?.db ?? (await createTestDatabase());
  if (owner) await migrate(db.sql, relationModule.migrations!);
  // A replica gets its own pool, as another process would: its LISTENs and transactions are its own.
  const sql = owner ? db.sql : connect(db.url, { max: 5, applicationName: "relation-replica" });
  const logDir = await mkdtemp(join(tmpdir(), "concord-relation-log-"));
  const events = await openEmbeddedLog({ dir: logDir });
  const tokens = new TokenAuthority("relation-test-secret-0123456789");
  const logger = createLogger("relation-test", "silent");
  const metrics = new Metrics();
  const server = new ConcordServer({ name: "relation", logger, metrics, tokens, shutdownGraceMs: 1000 });
  const running = await startRelationService({
    server,
    sql,
    events,
    logger,
    metrics,
    tokens,
    clock: systemClock,
  });
  const port = await server.listen("127.0.0.1:0");
  const address = `127.0.0.1:${port}`;
  const clients: { close(): void }[] = [];
  return {
    address,
    db,
    state: new RelationState(sql, systemClock),
    tokens,
    events,
    leaders: running.leaders,
    async client(service, tag = "admin") {
      const c = createClient(service, address, { token: await tokens.issue(tag) });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await server.shutdown();
      await running.stop();
      await events.close();
      if (owner) await db.drop();
      else await sql.end({ timeout: 5 });
      await rm(logDir, { recursive: true, force: true });
    },
  };
}
