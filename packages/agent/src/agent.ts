// The agent's run loop: hook tools and their socket, the machine lock, and a uniter started again after
// every failure (it resumes from the committed state).
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "@concord/clock";
import { MachineLock } from "@concord/hook-runner";
import type { AgentConfig } from "./config";
import { installTools, ToolServer } from "./tool-server";
import type { AgentLogger, RelationApi } from "./types";
import { type MeterStatusSource, Uniter, type UniterLeadership, type UniterOutcome } from "./uniter";

/** What the agent runs against: the controller's services and the clock. */
export interface AgentDeps {
  api: RelationApi;
  logger: AgentLogger;
  clock: Clock;
  leadership?: UniterLeadership;
  meterStatus?: MeterStatusSource;
}

// sun_path holds 108 bytes; a deep data dir gets its socket in the temporary directory instead.
const MAX_SOCKET_PATH = 100;

/** The hook-command socket of an agent whose data dir is `dataDir`. */
export function socketPathFor(dataDir: string): string {
  const path = join(dataDir, "agent.socket");
  if (Buffer.byteLength(path) <= MAX_SOCKET_PATH) return path;
  const hash = createHash("sha256").update(dataDir).digest("hex").slice(0, 16);
  return join(tmpdir(), `concord-agent-${hash}.socket`);
}

/**
 * Runs the unit's uniter until `signal` aborts (resolves "stopped") or the unit is dead (resolves "dead": the
 * agent has nothing left to do, Juju's ErrTerminateAgent); a failed uniter is started again after a delay.
 */
export async function runAgent(
  config: AgentConfig,
  deps: AgentDeps,
  signal: AbortSignal,
): Promise<UniterOutcome> {
  const { logger, clock } = deps;
  await mkdir(config.dataDir, { recursive: true, mode: 0o755 });
  const toolsDir = join(config.dataDir, "tools");
  await installTools(toolsDir);
  const socketPath = socketPathFor(config.dataDir);
  const tools = new ToolServer();
  await tools.listen(socketPath);
  const lock = new MachineLock({ dataDir: config.dataDir });
  try {
    while (!signal.aborted) {
      const uniter = new Uniter({
        unitName: config.unit,
        modelUuid: config.modelUuid,
        charmDir: config.charmDir,
        dataDir: config.dataDir,
        api: deps.api,
        lock,
        tools,
        socketPath,
        toolsDir,
        clock,
        logger,
        retry: { initialMs: config.hookRetryMs, maxMs: config.hookRetryMaxMs, factor: 2 },
        ...(deps.leadership ? { leadership: deps.leadership } : {}),
        ...(deps.meterStatus ? { meterStatus: deps.meterStatus } : {}),
      });
      const stop = () => uniter.stop();
      signal.addEventListener("abort", stop, { once: true });
      try {
        logger.info({ unit: config.unit }, "uniter started");
        if ((await uniter.run()) === "dead") return "dead";
      } catch (err) {
        logger.error({ error: (err as Error).message }, "uniter failed; starting it again");
        await sleep(clock, config.restartDelayMs, signal);
      } finally {
        signal.removeEventListener("abort", stop);
      }
    }
  } finally {
    await tools.close();
  }
  return "stopped";
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = clock.setTimer(ms, () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
    const onAbort = () => {
      timer.cancel();
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
