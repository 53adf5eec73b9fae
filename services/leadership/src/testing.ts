// Real pieces of the leadership service for tests: a lease store on a fresh database whose time follows a test
// clock, and LeadershipService on a ConcordServer listening on a local port, over any lease manager.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "@concord/clock";
import { createTestDatabase, migrate, type Sql, type TestDatabase } from "@concord/db";
import { type EventLog, openEmbeddedLog } from "@concord/events";
import { ConcordServer, createLogger, Metrics, TokenAuthority } from "@concord/grpc";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import type { FacadeOptions } from "./domain/facade";
import type { LeaseClient } from "./domain/types";
import { leadershipModule } from "./module";
import { leadershipService } from "./server";
import { PgLeaseStore } from "./store/lease-store";
import { LeaderSettingsStore } from "./store/settings-store";

/** A PostgreSQL lease store on its own, freshly migrated database. */
export interface TestLeaseStore {
  db: TestDatabase;
  sql: Sql;
  store: PgLeaseStore;
  /** Drops the database. */
  close(): Promise<void>;
}

/** A fresh database with the service's migrations; the store's time follows `clock` when given. */
export async function openTestLeaseStore(clock?: { now(): number }): Promise<TestLeaseStore> {
  const db = await createTestDatabase();
  try {
    await migrate(db.sql, leadershipModule.migrations!);
  } catch (err) {
    await db.drop();
    throw err;
  }
  return {
    db,
    sql: db.sql,
    store: new PgLeaseStore({ sql: db.sql, testClock: clock }),
    close: () => db.drop(),
  };
}

/** LeadershipService served on a local port. */
export interface TestServer {
  /** `127.0.0.1:<port>`. */
  address: string;
  tokens: TokenAuthority;
  /** Shuts the server down (in-flight waits end with UNAVAILABLE). */
  close(): Promise<void>;
}

/** Serves LeadershipService over `leases` (a lease manager) and the settings in `store`'s database. */
export async function startTestServer(options: {
  leases: { bind(namespace: string, modelUUID: string): LeaseClient };
  store: PgLeaseStore;
  sql: Sql;
  facade?: FacadeOptions;
}): Promise<TestServer> {
  const tokens = new TokenAuthority("leadership-test-secret-0123456789");
  const logger = createLogger("leadership-test", "silent");
  const server = new ConcordServer({
    name: "leadership",
    logger,
    metrics: new Metrics(),
    tokens,
    shutdownGraceMs: 1000,
  });
  const settings = new LeaderSettingsStore(options.sql, options.store);
  server.add(
    LeadershipService,
    leadershipService({ leases: options.leases, settings, facade: options.facade }),
  );
  const port = await server.listen("127.0.0.1:0");
  return {
    address: `127.0.0.1:${port}`,
    tokens,
    async close() {
      await server.shutdown();
      await settings.close();
    },
  };
}

/** The whole service module on a fresh database and an embedded event log, serving on a local port. */
export interface TestService {
  address: string;
  db: TestDatabase;
  tokens: TokenAuthority;
  /** The event log the module consumes unit events from. */
  events: EventLog;
  /** Stops the module (waiters end with UNAVAILABLE), the server, the log, and drops the database. */
  stop(): Promise<void>;
}

/** Starts the module as the runtime would (system clock, real time). */
export async function startTestService(): Promise<TestService> {
  const db = await createTestDatabase();
  await migrate(db.sql, leadershipModule.migrations!);
  const dir = await mkdtemp(join(tmpdir(), "concord-leadership-log-"));
  const events = await openEmbeddedLog({ dir });
  const tokens = new TokenAuthority("leadership-test-secret-0123456789");
  const logger = createLogger("leadership-test", "silent");
  const metrics = new Metrics();
  const server = new ConcordServer({ name: "leadership", logger, metrics, tokens, shutdownGraceMs: 1000 });
  const running = await leadershipModule.start({
    server,
    sql: db.sql,
    events,
    logger,
    metrics,
    tokens,
    clock: systemClock,
  });
  const port = await server.listen("127.0.0.1:0");
  return {
    address: `127.0.0.1:${port}`,
    db,
    tokens,
    events,
    async stop() {
      await server.shutdown();
      await running.stop();
      await events.close();
      await rm(dir, { recursive: true, force: true });
      await db.drop();
    },
  };
}
