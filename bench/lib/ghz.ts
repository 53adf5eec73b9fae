import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The ghz version the benchmarks install when it is missing. */
export const GHZ_VERSION = "v0.121.0";

/** The path of ghz: on PATH, in GOPATH/bin, or installed there with `go install`. */
export function ensureGhz(): string {
  const onPath = spawnSync("sh", ["-c", "command -v ghz"], { encoding: "utf8" }).stdout.trim();
  if (onPath) return onPath;
  const gopath =
    spawnSync("go", ["env", "GOPATH"], { encoding: "utf8" }).stdout.trim() || join(homedir(), "go");
  const bin = join(gopath, "bin", "ghz");
  if (existsSync(bin)) return bin;
  console.error(`installing ghz ${GHZ_VERSION} with go install (about a minute)...`);
  execFileSync("go", ["install", `github.com/bojand/ghz/cmd/ghz@${GHZ_VERSION}`], { stdio: "inherit" });
  return bin;
}

/** One ghz run: the same settings are used for a scenario's calls and its no-op baseline. */
export interface GhzRun {
  /** Fully-qualified method, e.g. `concord.common.v1.PingService.Ping`. */
  call: string;
  /** Request JSON (ghz templates such as {{.RequestNumber}} allowed). */
  data: unknown;
  token: string;
  address: string;
  connections: number;
  concurrency: number;
  /** Seconds of measured load. */
  durationSeconds: number;
  /** Requests skipped at the start (warm-up). */
  skipFirst: number;
  /** A fixed number of requests instead of `durationSeconds`. */
  total?: number;
}

/** What a run measured. */
export interface GhzResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  count: number;
  /** Calls that did not end OK, by status. */
  errors: Record<string, number>;
}

/** Runs ghz (through reflection: no proto files) and returns throughput and latency percentiles. */
export async function runGhz(ghz: string, run: GhzRun): Promise<GhzResult> {
  const args = [
    "--insecure",
    "--format=json",
    `--call=${run.call}`,
    `--data=${JSON.stringify(run.data)}`,
    `--metadata=${JSON.stringify({ authorization: `Bearer ${run.token}` })}`,
    `--connections=${run.connections}`,
    `--concurrency=${run.concurrency}`,
    ...(run.total
      ? [`--total=${run.total}`]
      : [`--duration=${run.durationSeconds}s`, `--skipFirst=${run.skipFirst}`]),
    "--timeout=10s",
    run.address,
  ];
  const child = spawn(ghz, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b) => (stdout += b));
  child.stderr.on("data", (b) => (stderr += b));
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  if (code !== 0 && !stdout) throw new Error(`ghz failed: ${stderr}`);
  const report = JSON.parse(stdout) as {
    rps: number;
    count: number;
    latencyDistribution?: { percentage: number; latency: number }[];
    statusCodeDistribution?: Record<string, number>;
  };
  const pct = (p: number) =>
    (report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? 0) / 1e6;
  const errors = Object.fromEntries(
    Object.entries(report.statusCodeDistribution ?? {}).filter(([k]) => k !== "OK"),
  );
  return { rps: report.rps, p50Ms: pct(50), p99Ms: pct(99), count: report.count, errors };
}

/**
 * Runs several ghz processes at once (e.g. one per application, each with that application's unit token, since
 * ghz sends one token per run) and adds them up: throughput is the sum; p50 is the median of the runs' p50s and
 * p99 the worst run's p99 (percentiles of separate runs cannot be merged exactly).
 */
export async function runGhzParallel(ghz: string, runs: GhzRun[]): Promise<GhzResult> {
  const results = await Promise.all(runs.map((r) => runGhz(ghz, r)));
  const p50s = results.map((r) => r.p50Ms).sort((a, b) => a - b);
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    rps: results.reduce((a, r) => a + r.rps, 0),
    p50Ms: p50s[Math.floor(p50s.length / 2)] ?? 0,
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    count: results.reduce((a, r) => a + r.count, 0),
    errors,
  };
}
