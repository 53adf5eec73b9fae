import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { connect as netConnect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDatabase, freePort, isReachable, startEmbeddedPostgres, withDatabase } from "@concord/db";
import { createClient, TokenAuthority } from "@concord/grpc";
import { Health, HealthCheckResponse_ServingStatus } from "@concord/proto/grpc/health/v1/health";
import { ADMIN_TOKEN_FILE, SECRET_FILE } from "@concord/runtime";
import { SERVICE_CONTRACTS } from "./gateway";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** How {@link startStack} runs. */
export interface StackOptions {
  /** Folder for logs, the secret, the admin token and (when started here) Postgres and NATS data. */
  dataDir: string;
  /** Postgres server URL; unset = 127.0.0.1:5432 when reachable, else embedded Postgres in the data folder. */
  databaseUrl?: string;
  /** Database created on that server for the stack (default `concord_stack`). */
  database?: string;
  /** NATS URL; unset = 127.0.0.1:4222 when reachable, else `nats-server -js` started in the data folder. */
  natsUrl?: string;
  /** JetStream stream of this stack (default CONCORD_EVENTS). */
  stream?: string;
  /** Gateway address (default 127.0.0.1:17070); each service gets a free port behind it. */
  gatewayAddress?: string;
  /** Log level of the processes (default info). */
  logLevel?: string;
}

/** A running stack. */
export interface Stack {
  /** The gateway: every service behind one address. */
  address: string;
  /** Each service process's own address (for benchmarks that must hit one server). */
  services: Record<string, string>;
  adminToken: string;
  secret: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function waitServing(
  address: string,
  service: string,
  child: ChildProcess,
  deadlineMs = 60_000,
): Promise<void> {
  const health = createClient(Health, address);
  const until = Date.now() + deadlineMs;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode} before SERVING`);
      const status = await health.check({ service: "" }, { deadline: 1000 }).then(
        (r) => r.status,
        () => undefined,
      );
      if (status === HealthCheckResponse_ServingStatus.SERVING) return;
      if (Date.now() > until)
        throw new Error(`${service} at ${address} is not SERVING after ${deadlineMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        child.once("exit", () => {
          clearTimeout(t);
          r();
        });
      });
    }
  } finally {
    health.close();
  }
}

/**
 * Runs every service as its own process against real Postgres and NATS, behind a gateway, wired as in Kubernetes:
 * one migration step first, then each service with DATABASE_URL, NATS_URL, CONCORD_TOKEN_SECRET and its own address.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const children: ChildProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null) continue;
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    children.length = 0;
    for (const fn of cleanups.reverse()) await fn();
    cleanups.length = 0;
  };
  try {
    await mkdir(options.dataDir, { recursive: true });
    const secretFile = join(options.dataDir, SECRET_FILE);
    if (!existsSync(secretFile))
      await writeFile(secretFile, randomBytes(32).toString("base64url"), { mode: 0o600 });
    const secret = (await readFile(secretFile, "utf8")).trim();

    let serverUrl = options.databaseUrl ?? "postgres://postgres@127.0.0.1:5432/postgres";
    if (!(await isReachable(serverUrl))) {
      if (options.databaseUrl) throw new Error(`Postgres at ${options.databaseUrl} is not reachable`);
      const pg = await startEmbeddedPostgres(join(options.dataDir, "postgres"));
      cleanups.push(() => pg.stop());
      serverUrl = pg.url;
    }
    const database = options.database ?? "concord_stack";
    await ensureDatabase(serverUrl, database);
    const databaseUrl = withDatabase(serverUrl, database);

    let natsUrl = options.natsUrl ?? "nats://127.0.0.1:4222";
    const natsHost = new URL(natsUrl.replace(/^nats:/, "http:"));
    const natsUp = await new Promise<boolean>((r) => {
      const s = netConnect(Number(natsHost.port || 4222), natsHost.hostname);
      s.once("connect", () => {
        s.destroy();
        r(true);
      });
      s.once("error", () => r(false));
    });
    if (!natsUp) {
      if (options.natsUrl) throw new Error(`NATS at ${options.natsUrl} is not reachable`);
      const port = await freePort();
      const nats = spawn(
        "nats-server",
        ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", join(options.dataDir, "nats")],
        {
          stdio: "ignore",
        },
      );
      children.push(nats);
      natsUrl = `nats://127.0.0.1:${port}`;
    }

    const logs = join(options.dataDir, "logs");
    await mkdir(logs, { recursive: true });
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      DATABASE_URL: databaseUrl,
      NATS_URL: natsUrl,
      CONCORD_TOKEN_SECRET: secret,
      CONCORD_EVENT_STREAM: options.stream ?? "CONCORD_EVENTS",
      // A stream of its own needs subjects of its own: JetStream streams may not overlap.
      ...(options.stream ? { CONCORD_EVENT_NAMESPACE: options.stream.toLowerCase() } : {}),
      LOG_LEVEL: options.logLevel ?? "info",
    };
    const run = (name: string, args: string[], extra: Record<string, string> = {}) => {
      // The open stdin pipe ties each child's life to the stack's (CONCORD_STOP_WITH_PARENT).
      const child = spawn(process.execPath, args, {
        cwd: ROOT,
        env: { ...env, CONCORD_STOP_WITH_PARENT: "1", ...extra },
        stdio: ["pipe", "pipe", "pipe"],
      });
      const log = createWriteStream(join(logs, `${name}.log`), { flags: "a" });
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
      return child;
    };

    const migrate = run("migrate", [join(ROOT, "packages/controller/bin/concord-migrate.mjs")]);
    const code = await new Promise<number | null>((r) => migrate.once("exit", r));
    if (code !== 0) throw new Error(`migrations failed (exit ${code}); see ${join(logs, "migrate.log")}`);

    const services: Record<string, string> = {};
    for (const contract of SERVICE_CONTRACTS) {
      const port = await freePort();
      const address = `127.0.0.1:${port}`;
      const child = run(
        contract.service,
        ["--import", "tsx", join(ROOT, `services/${contract.service}/src/main.ts`)],
        {
          CONCORD_ADDR: address,
          CONCORD_METRICS_ADDR: `127.0.0.1:${await freePort()}`,
        },
      );
      children.push(child);
      await waitServing(address, contract.service, child);
      services[contract.service] = address;
    }
    const gatewayAddress = options.gatewayAddress ?? "127.0.0.1:17070";
    const routes = Object.fromEntries(SERVICE_CONTRACTS.map((c) => [c.addressVar, services[c.service]!]));
    const gateway = run("gateway", [join(ROOT, "packages/controller/bin/concord-gateway.mjs")], {
      ...routes,
      CONCORD_ADDR: gatewayAddress,
      CONCORD_METRICS_ADDR: "off",
    });
    children.push(gateway);
    await waitServing(gatewayAddress, "gateway", gateway);
    const adminToken = await new TokenAuthority(secret).issue("admin");
    await writeFile(join(options.dataDir, ADMIN_TOKEN_FILE), `${adminToken}\n`, { mode: 0o600 });
    return { address: gatewayAddress, services, adminToken, secret, env, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
