// Real pieces of the leadership service for tests: a lease store on a fresh database whose time follows a test
// clock, and LeadershipService on a ConcordServer listening on a local port, over any lease manager.
import type { Sql, TestDatabase } from "@concord/db";
import type { EventLog } from "@concord/events";
import type { TokenAuthority } from "@concord/grpc";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import { createMigratedTestDatabase, serveForTest, startTestModule } from "@concord/runtime/testing";
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
  const db = await createMigratedTestDatabase(leadershipModule.migrations);
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
  const settings = new LeaderSettingsStore(options.sql, options.store);
  const serving = await serveForTest({ name: "leadership" }, ({ server }) => {
    server.add(
      LeadershipService,
      leadershipService({ leases: options.leases, settings, facade: options.facade }),
    );
  });
  return {
    address: serving.address,
    tokens: serving.tokens,
    async close() {
      await serving.close();
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
  const { address, db, tokens, events, stop } = await startTestModule(leadershipModule);
  return { address, db: db!, tokens, events, stop };
}
