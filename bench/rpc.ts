// `npm run -w @concord/bench rpc [service...]`: ghz load on each service's hot RPCs beside the no-op Ping on the
// same server process, same settings, same run. By default it starts the multi-process stack (every service its
// own process on real Postgres and NATS, as in Kubernetes) and loads each service's own process; BENCH_TARGET=
// all-in-one loads the single-process controller instead; BENCH_ADDRESS (+ BENCH_TOKEN_SECRET) a running
// deployment. Installs ghz with `go install` when missing. Results: the "RPC throughput" section of RESULTS.md.
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startStack } from "@concord/controller";
import { freePort } from "@concord/db";
import { TokenAuthority } from "@concord/grpc";
import { ensureGhz, type GhzResult, type GhzRun, runGhz, runGhzParallel } from "./lib/ghz";
import { machine, table, writeSection } from "./lib/results";
import type { BenchCall, BenchContext, Scenario } from "./lib/scenario";

const settings = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 4),
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
  durationSeconds: Number(process.env.BENCH_DURATION ?? 10),
  skipFirst: Number(process.env.BENCH_WARMUP ?? 500),
};
const root = fileURLToPath(new URL("..", import.meta.url));

/** What the benchmark loads: a front address for preparing state, and the process serving each service. */
interface Target {
  description: string;
  address: string;
  serviceAddress(service: string): string;
  secret: string;
  stop(): Promise<void>;
}

async function allInOne(): Promise<Target> {
  const data = mkdtempSync(join(tmpdir(), "concord-bench-"));
  const address = `127.0.0.1:${await freePort()}`;
  const child = spawn(process.execPath, [join(root, "packages/controller/bin/concord-controller.mjs")], {
    env: {
      ...process.env,
      CONCORD_DATA: data,
      CONCORD_ADDR: address,
      LOG_LEVEL: "warn",
      CONCORD_METRICS_ADDR: "off",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const logFile = join(data, "controller.log");
  const log = createWriteStream(logFile);
  await new Promise<void>((ok, fail) => {
    let out = "";
    child.stdout.pipe(log);
    child.stdout.on("data", (b) => {
      out += b;
      if (out.includes("is SERVING")) ok();
    });
    child.once("exit", (code) => fail(new Error(`controller exited with ${code}: ${out}`)));
  });
  return {
    description: "an all-in-one controller (embedded Postgres, embedded event log, one process)",
    address,
    serviceAddress: () => address,
    secret: readFileSync(join(data, "token-secret"), "utf8").trim(),
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

async function stack(): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), "concord-bench-stack-"));
  const s = await startStack({
    dataDir,
    databaseUrl: process.env.DATABASE_URL,
    database: `concord_bench_${Date.now()}`,
    natsUrl: process.env.NATS_URL,
    stream: `CONCORD_BENCH_${Date.now()}`,
    gatewayAddress: `127.0.0.1:${await freePort()}`,
    logLevel: "warn",
  });
  return {
    description:
      "the multi-process stack (`npm run stack`: each service its own process, Postgres on 127.0.0.1:5432 or DATABASE_URL, NATS JetStream); each service's calls and its Ping go to that service's own process",
    address: s.address,
    serviceAddress: (service) => s.services[service] ?? s.address,
    secret: s.secret,
    stop: async () => {
      await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const ghz = ensureGhz();
const wanted = process.argv.slice(2);
const scenarioDir = fileURLToPath(new URL("./scenarios/", import.meta.url));
const scenarios: Scenario[] = [];
for (const f of readdirSync(scenarioDir)
  .filter((f) => f.endsWith(".ts"))
  .sort()) {
  const { scenario } = (await import(join(scenarioDir, f))) as { scenario: Scenario };
  if (wanted.length === 0 || wanted.includes(scenario.service)) scenarios.push(scenario);
}

const target: Target = process.env.BENCH_ADDRESS
  ? {
      description: process.env.BENCH_ADDRESS,
      address: process.env.BENCH_ADDRESS,
      serviceAddress: () => process.env.BENCH_ADDRESS!,
      secret: process.env.BENCH_TOKEN_SECRET ?? "",
      stop: async () => {},
    }
  : process.env.BENCH_TARGET === "all-in-one"
    ? await allInOne()
    : await stack();
try {
  const tokens = new TokenAuthority(target.secret);
  const ctx: BenchContext = {
    address: target.address,
    adminToken: await tokens.issue("admin"),
    issue: (t) => tokens.issue(t),
  };
  const rows: (string | number)[][] = [];
  for (const scenario of scenarios) {
    const address = target.serviceAddress(scenario.service);
    const calls = await scenario.prepare(ctx);
    const run = (c: BenchCall): Promise<GhzResult> => {
      const base: GhzRun = { ...settings, ...c, address };
      if (!c.parallel) return runGhz(ghz, base);
      const each = Math.max(1, Math.floor(settings.concurrency / c.parallel.length));
      return runGhzParallel(
        ghz,
        c.parallel.map((p) => ({
          ...base,
          ...p,
          concurrency: each,
          connections: 1,
          skipFirst: Math.ceil(settings.skipFirst / c.parallel!.length),
        })),
      );
    };
    const baseline = await run({
      label: "Ping",
      call: "concord.common.v1.PingService.Ping",
      data: {},
      token: ctx.adminToken,
    });
    const fmt = (r: GhzResult) => [r.rps.toFixed(0), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2)];
    rows.push([scenario.service, "Ping (no-op baseline)", ...fmt(baseline), "1.00", ""]);
    for (const c of calls) {
      const r = await run(c);
      const errs = Object.entries(r.errors)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ");
      rows.push([scenario.service, c.label, ...fmt(r), (r.rps / baseline.rps).toFixed(2), errs]);
      console.log(
        `${scenario.service} ${c.label}: ${r.rps.toFixed(0)} rps (ratio ${(r.rps / baseline.rps).toFixed(2)}), p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms ${errs}`,
      );
    }
  }
  writeSection(
    "RPC throughput (ghz)",
    [
      `Command: \`npm run -w @concord/bench rpc\` against ${target.description}.`,
      `Machine: ${machine()}. Settings: ${settings.connections} connections, concurrency ${settings.concurrency}, ${settings.durationSeconds} s per call (AddRelation: a fixed count), first ${settings.skipFirst} requests skipped. ghz, the services, Postgres and NATS share the machine.`,
      'Ratio = throughput / throughput of the no-op Ping measured on the same server process just before. "Unavailable: N" with N ≤ the concurrency are the calls in flight when ghz closes its connections at the end of a timed run.',
      "",
      table(["service", "call", "req/s", "p50 ms", "p99 ms", "ratio to no-op", "errors"], rows),
    ].join("\n"),
  );
} finally {
  await target.stop();
}
