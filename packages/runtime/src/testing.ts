// Test fixtures that start a service module as `startProcess` would, in-process: a migrated database, an
// embedded event log, a token authority, and a ConcordServer on a local port. Only tests import this subpath.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Clock, systemClock } from "@concord/clock";
import {
  connect,
  createTestDatabase,
  type MigrationSet,
  migrate,
  type Sql,
  type TestDatabase,
} from "@concord/db";
import { type EventLog, openEmbeddedLog, type Relay, startRelay } from "@concord/events";
import {
  type Client,
  ConcordServer,
  createClient,
  createLogger,
  type Logger,
  Metrics,
  TokenAuthority,
} from "@concord/grpc";
import type { RunningService, ServiceDeps, ServiceModule } from "./types";

/** Any generated service descriptor (`DescService`), without a dependency on protobuf here. */
type Service = Parameters<typeof createClient>[0];

/** A fresh test database with `migrations` applied; it is dropped again if they fail. */
export async function createMigratedTestDatabase(migrations?: MigrationSet): Promise<TestDatabase> {
  const db = await createTestDatabase();
  try {
    if (migrations) await migrate(db.sql, migrations);
  } catch (err) {
    await db.drop();
    throw err;
  }
  return db;
}

/** Options of {@link serveForTest}. */
export interface TestServerOptions {
  /** The server's name: answered by Ping, and the default token secret's prefix. */
  name: string;
  /** Token secret (default `<name>-test-secret-0123456789`); keep it across restarts so tokens stay valid. */
  secret?: string;
  /** `host:port` to listen on (default `127.0.0.1:0`); pass an old port to come back on it. */
  address?: string;
  /** How long shutdown lets in-flight calls finish (default 1 s). */
  shutdownGraceMs?: number;
}

/** What a test's services are registered with before the server listens. */
export interface TestServerKit {
  server: ConcordServer;
  logger: Logger;
  metrics: Metrics;
  tokens: TokenAuthority;
}

/** A ConcordServer serving on a local port, with clients that call it as any tag. */
export interface TestServing extends TestServerKit {
  /** `127.0.0.1:<port>`. */
  address: string;
  port: number;
  /** A client of one service calling as `tag` (default admin); closed by `close()`. */
  client<S extends Service>(service: S, tag?: string): Promise<Client<S>>;
  /** Closes the clients and shuts the server down (in-flight streams end with UNAVAILABLE). */
  close(): Promise<void>;
}

/** Builds a silent server, lets `register` add services to it, and listens on a local port. */
export async function serveForTest(
  options: TestServerOptions,
  register: (kit: TestServerKit) => void | Promise<void>,
): Promise<TestServing> {
  const tokens = new TokenAuthority(options.secret ?? `${options.name}-test-secret-0123456789`);
  const logger = createLogger(`${options.name}-test`, "silent");
  const metrics = new Metrics();
  const server = new ConcordServer({
    name: options.name,
    logger,
    metrics,
    tokens,
    shutdownGraceMs: options.shutdownGraceMs ?? 1000,
  });
  const kit = { server, logger, metrics, tokens };
  await register(kit);
  const port = await server.listen(options.address ?? "127.0.0.1:0");
  const address = `127.0.0.1:${port}`;
  const clients: { close(): void }[] = [];
  return {
    ...kit,
    address,
    port,
    async client(service, tag = "admin") {
      const c = createClient(service, address, { token: await tokens.issue(tag) });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.shutdown();
    },
  };
}

/** A module as {@link startTestModule} starts it: `start` may return more than {@link RunningService}. */
export interface TestableModule<R extends RunningService> extends Pick<ServiceModule, "name" | "migrations"> {
  start(deps: ServiceDeps): Promise<R>;
}

/** Options of {@link startTestModule}. */
export interface TestModuleOptions extends Omit<TestServerOptions, "name"> {
  /**
   * An existing database to open a pool of its own to (ended on stop; the caller owns the database). Default: a
   * fresh test database, dropped on stop.
   */
  databaseUrl?: string;
  /** The pool opened to `databaseUrl`. */
  pool?: { max: number; applicationName: string };
  /** Whether to apply the module's migrations (default true; a second replica finds them applied). */
  migrate?: boolean;
  /** Folder of the embedded event log, kept on stop so a restart finds it (default: a temporary folder). */
  eventsDir?: string;
  /** The module's clock (default: the wall clock). */
  clock?: Clock;
  /** Run the outbox relay of the module's schema, as the runtime does for modules that publish events. */
  relay?: boolean;
}

/** A module started for a test. */
export interface TestModule<R extends RunningService> extends TestServing {
  /** The test database, when the fixture created it. */
  db?: TestDatabase;
  sql: Sql;
  events: EventLog;
  running: R;
  /** The outbox relay, when `relay` was asked for. */
  relay?: Relay;
  /** Stops everything in the runtime's order, drops the database and removes the log folder the fixture made. */
  stop(): Promise<void>;
}

/** Starts `module` as the runtime would, on a test database, an embedded event log and a local port. */
export async function startTestModule<R extends RunningService>(
  module: TestableModule<R>,
  options: TestModuleOptions = {},
): Promise<TestModule<R>> {
  let db: TestDatabase | undefined;
  let sql: Sql | undefined;
  let logDir: string | undefined;
  let events: EventLog | undefined;
  let running: R | undefined;
  let relay: Relay | undefined;
  let serving: TestServing | undefined;
  const stop = async () => {
    await serving?.close();
    await relay?.stop();
    await running?.stop();
    await events?.close();
    if (db) await db.drop();
    else await sql?.end({ timeout: 5 });
    if (logDir) await rm(logDir, { recursive: true, force: true });
  };
  try {
    const migrations = options.migrate === false ? undefined : module.migrations;
    if (options.databaseUrl) {
      sql = connect(options.databaseUrl, options.pool ?? { max: 10, applicationName: `${module.name}-test` });
      if (migrations) await migrate(sql, migrations);
    } else {
      db = await createMigratedTestDatabase(migrations);
      sql = db.sql;
    }
    logDir = options.eventsDir ? undefined : await mkdtemp(join(tmpdir(), `concord-${module.name}-log-`));
    events = await openEmbeddedLog({ dir: options.eventsDir ?? logDir! });
    const deps = { sql, events, clock: options.clock ?? systemClock };
    serving = await serveForTest({ ...options, name: module.name }, async (kit) => {
      running = await module.start({ ...kit, ...deps });
      if (options.relay && module.migrations) {
        relay = startRelay({
          sql: deps.sql,
          schema: module.migrations.schema,
          log: deps.events,
          logger: kit.logger,
        });
      }
    });
    return { ...serving, ...deps, db, running: running!, relay, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
