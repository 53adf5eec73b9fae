import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The ghz version the benchmarks install when it is missing. */
export const GHZ_VERSION = "v0.121.0";

/** The path of ghz: on PATH, in GOPATH/bin, or installed there with `go install`. */
export function ensureGhz(): string {
  const onPath = spawnSync("sh", ["-c", "command -v ghz"], { encoding: "utf8" }).stdout.trim();
  if (onPath) return onPath;
  const gopath = spawnSync("go", ["env", "GOPATH"], { encoding: "utf8" }).stdout.trim() || join(homedir(), "go");
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
export function runGhz(ghz: string, run: GhzRun): GhzResult {
  const args = [
    "--insecure",
    "--format=json",
    `--call=${run.call}`,
    `--data=${JSON.stringify(run.data)}`,
    `--metadata=${JSON.stringify({ authorization: `Bearer ${run.token}` })}`,
    `--connections=${run.connections}`,
    `--concurrency=${run.concurrency}`,
    ...(run.total ? [`--total=${run.total}`] : [`--duration=${run.durationSeconds}s`, `--skipFirst=${run.skipFirst}`]),
    "--timeout=10s",
    run.address,
  ];
  const out = spawnSync(ghz, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (out.status !== 0 && !out.stdout) throw new Error(`ghz failed: ${out.stderr}`);
  const report = JSON.parse(out.stdout) as {
    rps: number;
    count: number;
    latencyDistribution?: { percentage: number; latency: number }[];
    statusCodeDistribution?: Record<string, number>;
  };
  const pct = (p: number) => (report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? 0) / 1e6;
  const errors = Object.fromEntries(Object.entries(report.statusCodeDistribution ?? {}).filter(([k]) => k !== "OK"));
  return { rps: report.rps, p50Ms: pct(50), p99Ms: pct(99), count: report.count, errors };
}
