import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigError, env, envInt, parseAddress } from "@concord/config";
import {
  connect,
  type EmbeddedServer,
  ensureDatabase,
  migrate,
  type Sql,
  startEmbeddedPostgres,
  withDatabase,
} from "@concord/db";
import { type EventLog, openEventLog, type Relay, startRelay } from "@concord/events";
import { ConcordServer, createLogger, type Logger, Metrics, TokenAuthority } from "@concord/grpc";
import { ADMIN_TOKEN_FILE, dataDir as defaultDataDir, tokenSecret } from "./secrets";
import { type RunningService, type ServiceModule, systemClock } from "./types";

/** How {@link startProcess} runs. */
export interface ProcessOptions {
  /** Process name: `controller` for the all-in-one, else the service's name. */
  name: string;
  modules: ServiceModule[];
  /** All-in-one mode: embedded Postgres / event log when not configured, automatic migrations, admin token file. */
  allInOne: boolean;
  /** Default gRPC address when CONCORD_ADDR is unset. */
  defaultAddress: string;
}

/** A started Concord process. */
export interface ConcordProcess {
  address: string;
  metricsAddress?: string;
  logger: Logger;
  /** Everything a client needs to call this process as admin. */
  adminToken: string;
  /** Stops serving (gracefully) and releases every resource; idempotent. */
  stop(): Promise<void>;
}

/** Pending migrations of a module: journal entries not yet recorded as applied. */
async function pendingMigrations(sql: Sql, module: ServiceModule): Promise<number> {
  if (!module.migrations) return 0;
  const journal = JSON.parse(
    await readFile(join(module.migrations.folder, "meta", "_journal.json"), "utf8"),
  ) as {
    entries: unknown[];
  };
  const table = `migrations_${module.migrations.schema}`;
  const [exists] = await sql`select to_regclass(${`drizzle.${table}`}) is not null as ok`;
  if (!exists?.ok) return journal.entries.length;
  const [row] = await sql`select count(*)::int as n from ${sql("drizzle")}.${sql(table)}`;
  return journal.entries.length - (row?.n ?? 0);
}

/**
 * Starts a Concord process: database, event log, migrations, every module, the outbox relays, the gRPC server and
 * the metrics endpoint. The all-in-one controller and each standalone service both start through here.
 */
export async function startProcess(options: ProcessOptions): Promise<ConcordProcess> {
  const logger = createLogger(options.name);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse())
      await fn().catch((err) => logger.error({ err }, "shutdown step failed"));
    cleanups.length = 0;
  };
  try {
    const data = options.allInOne ? resolve(defaultDataDir()) : undefined;
    if (data) await mkdir(data, { recursive: true });
    const secret = await tokenSecret(data);
    const tokens = new TokenAuthority(secret);

    let databaseUrl = env("DATABASE_URL");
    if (!databaseUrl) {
      if (!data)
        throw new ConfigError("DATABASE_URL is not set: a standalone service needs a shared Postgres");
      const pgLog = createLogger("postgres", process.env.LOG_LEVEL === "debug" ? "debug" : "warn");
      const embedded: EmbeddedServer = await startEmbeddedPostgres(join(data, "postgres"), {
        log: (line) => pgLog.debug({ line }, "postgres"),
      });
      cleanups.push(() => embedded.stop());
      await ensureDatabase(embedded.url, "concord");
      databaseUrl = withDatabase(embedded.url, "concord");
      logger.info({ dir: join(data, "postgres") }, "embedded Postgres started");
    }
    const sql = connect(databaseUrl, { max: envInt("CONCORD_DB_POOL", 10), applicationName: options.name });
    cleanups.push(() => sql.end({ timeout: 5 }));

    for (const module of options.modules) {
      if (!module.migrations) continue;
      if (options.allInOne || env("CONCORD_MIGRATE") === "1") {
        await migrate(sql, module.migrations);
      } else {
        const pending = await pendingMigrations(sql, module);
        if (pending > 0) {
          throw new ConfigError(
            `${pending} migration(s) of ${module.name} are not applied: run \`concord-migrate ${module.name}\` first (or set CONCORD_MIGRATE=1)`,
          );
        }
      }
    }

    const natsUrl = env("NATS_URL");
    if (!natsUrl && !data)
      throw new ConfigError("NATS_URL is not set: a standalone service needs the shared JetStream");
    const events: EventLog = await openEventLog({
      natsUrl,
      dataDir: data ? join(data, "events") : undefined,
      stream: env("CONCORD_EVENT_STREAM"),
      namespace: env("CONCORD_EVENT_NAMESPACE"),
    });
    cleanups.push(() => events.close());

    const metrics = new Metrics();
    const server = new ConcordServer({
      name: options.name,
      logger,
      metrics,
      tokens,
      shutdownGraceMs: envInt("CONCORD_SHUTDOWN_GRACE_MS", 10_000),
    });
    const running: RunningService[] = [];
    const relays: Relay[] = [];
    for (const module of options.modules) {
      running.push(
        await module.start({
          server,
          sql,
          events,
          logger: logger.child({ module: module.name }),
          metrics,
          tokens,
          clock: systemClock,
        }),
      );
      if (module.publishesEvents && module.migrations) {
        relays.push(startRelay({ sql, schema: module.migrations.schema, log: events, logger }));
      }
    }
    cleanups.push(async () => {
      for (const r of relays) await r.stop();
      for (const m of running) await m.stop();
    });

    const addressText = env("CONCORD_ADDR", options.defaultAddress);
    const { host, port } = parseAddress("CONCORD_ADDR", addressText);
    const bound = await server.listen(`${host.includes(":") ? `[${host}]` : host}:${port}`);
    cleanups.push(() => server.shutdown());
    const address = `${host}:${bound}`;

    let metricsAddress: string | undefined;
    const metricsSetting = env("CONCORD_METRICS_ADDR", `${host}:${bound + 1}`);
    if (metricsSetting !== "off") {
      const m = parseAddress("CONCORD_METRICS_ADDR", metricsSetting);
      const http = await metrics.serve(m.host, m.port);
      metricsAddress = `${m.host}:${http.port}`;
      cleanups.push(() => http.close());
    }

    const adminToken = await tokens.issue("admin");
    if (data) {
      await writeFile(join(data, ADMIN_TOKEN_FILE), `${adminToken}\n`, { mode: 0o600 });
      // The CLI's default controller address.
      await writeFile(join(data, "controller.address"), `${address}\n`);
    }
    let stopping: Promise<void> | undefined;
    return {
      address,
      metricsAddress,
      logger,
      adminToken,
      stop: () => (stopping ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Runs a process until SIGINT/SIGTERM, then stops it gracefully; configuration errors exit with status 2. */
export async function runUntilSignalled(
  options: ProcessOptions,
  banner?: (p: ConcordProcess) => string,
): Promise<void> {
  let proc: ConcordProcess;
  try {
    proc = await startProcess(options);
  } catch (err) {
    const config = err instanceof ConfigError;
    console.error(
      `${options.name}: ${config ? "configuration error: " : "cannot start: "}${(err as Error).message}`,
    );
    if (!config) console.error((err as Error).stack);
    process.exit(config ? 2 : 1);
  }
  if (banner) console.log(banner(proc));
  proc.logger.info({ address: proc.address, metrics: proc.metricsAddress }, "serving");
  let signals = 0;
  const onSignal = (sig: string) => {
    if (++signals > 1) {
      proc.logger.warn({ sig }, "second signal: exiting now");
      process.exit(130);
    }
    proc.logger.info({ sig }, "shutting down");
    void proc.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  stopWithParent(() => onSignal("parent exited"));
}

/**
 * With CONCORD_STOP_WITH_PARENT=1 the process stops when its standard input closes: a supervisor (the stack)
 * keeps a pipe open to each child, so children never outlive it, even when it is killed outright.
 */
export function stopWithParent(stop: () => void): void {
  if (env("CONCORD_STOP_WITH_PARENT") !== "1") return;
  process.stdin.on("data", () => {});
  process.stdin.once("end", stop);
  process.stdin.once("error", stop);
}

/** Starts one service module as its own process (how Kubernetes runs it). */
export function runStandalone(module: ServiceModule, defaultPort: number): Promise<void> {
  return runUntilSignalled({
    name: module.name,
    modules: [module],
    allInOne: false,
    defaultAddress: `0.0.0.0:${defaultPort}`,
  });
}
