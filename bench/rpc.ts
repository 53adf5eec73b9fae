// `npm run -w @concord/bench rpc [scenario...]`: ghz load on each service's hot RPCs beside the no-op Ping on the
// same server, same settings, same run. Starts an all-in-one controller on a temporary data folder unless
// BENCH_ADDRESS (+ BENCH_TOKEN_SECRET) points at a running deployment. Results: bench/RESULTS.md.
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TokenAuthority } from "@concord/grpc";
import { ensureGhz, runGhz, type GhzResult } from "./lib/ghz";
import { machine, table, writeSection } from "./lib/results";
import type { BenchCall, BenchContext, Scenario } from "./lib/scenario";

const settings = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 4),
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
  durationSeconds: Number(process.env.BENCH_DURATION ?? 10),
  skipFirst: Number(process.env.BENCH_WARMUP ?? 500),
};
const root = fileURLToPath(new URL("..", import.meta.url));

async function startController(): Promise<{ address: string; secret: string; stop(): Promise<void> }> {
  const data = mkdtempSync(join(tmpdir(), "concord-bench-"));
  const port = 27070 + Math.floor(Math.random() * 1000);
  const child = spawn(process.execPath, [join(root, "packages/controller/bin/concord-controller.mjs")], {
    env: { ...process.env, CONCORD_DATA: data, CONCORD_ADDR: `127.0.0.1:${port}`, LOG_LEVEL: "warn", CONCORD_METRICS_ADDR: "off" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const logFile = join(tmpdir(), `concord-bench-controller-${port}.log`);
  const log = createWriteStream(logFile);
  console.error(`controller log (warnings and errors): ${logFile}`);
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
    address: `127.0.0.1:${port}`,
    secret: readFileSync(join(data, "token-secret"), "utf8").trim(),
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

const ghz = ensureGhz();
const wanted = process.argv.slice(2);
const scenarioDir = fileURLToPath(new URL("./scenarios/", import.meta.url));
const scenarios: Scenario[] = [];
for (const f of readdirSync(scenarioDir).filter((f) => f.endsWith(".ts")).sort()) {
  const { scenario } = (await import(join(scenarioDir, f))) as { scenario: Scenario };
  if (wanted.length === 0 || wanted.includes(scenario.service)) scenarios.push(scenario);
}

const target = process.env.BENCH_ADDRESS
  ? { address: process.env.BENCH_ADDRESS, secret: process.env.BENCH_TOKEN_SECRET ?? "", stop: async () => {} }
  : await startController();
try {
  const tokens = new TokenAuthority(target.secret);
  const ctx: BenchContext = { address: target.address, adminToken: await tokens.issue("admin"), issue: (t) => tokens.issue(t) };
  const run = (c: BenchCall): GhzResult => runGhz(ghz, { ...c, address: target.address, ...settings });
  const rows: (string | number)[][] = [];
  for (const scenario of scenarios) {
    const calls = await scenario.prepare(ctx);
    const baseline = run({ label: "Ping", call: "concord.common.v1.PingService.Ping", data: {}, token: ctx.adminToken });
    rows.push([scenario.service, "Ping (no-op baseline)", baseline.rps.toFixed(0), baseline.p50Ms.toFixed(2), baseline.p99Ms.toFixed(2), "1.00", ""]);
    for (const c of calls) {
      const r = run(c);
      const errs = Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join(", ");
      rows.push([scenario.service, c.label, r.rps.toFixed(0), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), (r.rps / baseline.rps).toFixed(2), errs]);
      console.log(`${scenario.service} ${c.label}: ${r.rps.toFixed(0)} rps, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms ${errs}`);
    }
  }
  writeSection(
    "RPC throughput (ghz)",
    [
      `Command: \`npm run -w @concord/bench rpc\` against ${process.env.BENCH_ADDRESS ? process.env.BENCH_ADDRESS : "an all-in-one controller (embedded Postgres, embedded event log)"}.`,
      `Machine: ${machine()}. Settings: ${settings.connections} connections, concurrency ${settings.concurrency}, ${settings.durationSeconds} s per call, first ${settings.skipFirst} requests skipped. ghz and the server share the machine.`,
      "Ratio = throughput / throughput of the no-op Ping measured on the same server just before.",
      "",
      table(["service", "call", "req/s", "p50 ms", "p99 ms", "ratio to no-op", "errors"], rows),
    ].join("\n"),
  );
} finally {
  await target.stop();
}
