// The meter-status worker in the agent (spec meterstatus §8, §13): the connected worker with the disk state
// migrated to the controller, and the status every other hook exports.
import type { Clock } from "@concord/clock";
import { unitTag } from "@concord/grpc";
import type { HookLock } from "@concord/hook-runner";
import { type MeterStatusClient, MeterStatusManager, newHookRunner } from "@concord/meterstatus-worker";
import type { AgentLogger } from "./types";
import type { MeterStatusSource } from "./uniter";

/** Configuration of {@link startMeterStatus}. */
export interface AgentMeterStatusConfig {
  client: MeterStatusClient;
  unitName: string;
  modelUuid: string;
  dataDir: string;
  charmDir: string;
  lock: HookLock;
  clock: Clock;
  logger: AgentLogger;
  /** The hook-command socket, exported to meter-status-changed. */
  socketPath: string;
}

/** A running meter-status worker and the status source of ordinary hooks. */
export interface AgentMeterStatus {
  status: MeterStatusSource;
  stop(): Promise<void>;
}

/** Starts the connected meter-status worker (the agent runs only while it reaches the controller). */
export async function startMeterStatus(config: AgentMeterStatusConfig): Promise<AgentMeterStatus> {
  const { logger } = config;
  const workerLogger = {
    debug: (msg: string) => logger.debug({ worker: "meterstatus" }, msg),
    info: (msg: string) => logger.info({ worker: "meterstatus" }, msg),
    warn: (msg: string) => logger.warn({ worker: "meterstatus" }, msg),
    error: (msg: string) => logger.error({ worker: "meterstatus" }, msg),
  };
  const manager = new MeterStatusManager({
    agentTag: unitTag(config.unitName),
    dataDir: config.dataDir,
    clock: config.clock,
    logger: workerLogger,
    runner: newHookRunner({
      unitName: config.unitName,
      modelUUID: config.modelUuid,
      charmDir: config.charmDir,
      lock: config.lock,
      logger: workerLogger,
      agentSocket: { address: config.socketPath, network: "unix" },
    }),
  });
  await manager.apiConnected(config.client);
  return {
    status: () => config.client.getMeterStatus(config.unitName),
    stop: () => manager.stop(),
  };
}
