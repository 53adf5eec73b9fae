import { join } from "node:path";
import { type ConnectedWorker, startConnectedWorker } from "./connected";
import { MeterStatusWorkerError } from "./errors";
import {
  DEFAULT_AMBER_GRACE_MS,
  DEFAULT_RED_GRACE_MS,
  type IsolatedWorker,
  startIsolatedWorker,
} from "./isolated";
import { ControllerState, DiskStateFile, STATE_FILE } from "./state";
import type { TriggerFactory } from "./triggers";
import type { Clock, HookRunner, Logger, MeterStatusClient } from "./types";

/** Configuration of {@link MeterStatusManager}. */
export interface MeterStatusManagerConfig {
  /** The agent's tag; must be a unit agent's, `unit-app-0`. */
  agentTag: string;
  /** The agent's data dir; the isolated state lives in `<dataDir>/meter-status.yaml`. */
  dataDir: string;
  clock: Clock;
  logger: Logger;
  runner: HookRunner;
  /** 5 min by default. */
  amberGracePeriodMs?: number;
  /** 15 min by default. */
  redGracePeriodMs?: number;
  triggerFactory?: TriggerFactory;
  /** The disk state store; defaults to `<dataDir>/meter-status.yaml`. */
  diskState?: DiskStateFile;
}

/** Which worker is running. */
export type MeterStatusMode = "isolated" | "connected";

/** `unit-app-0` → `app/0`; undefined for any tag that is not a unit's. */
export function unitNameFromTag(tag: string): string | undefined {
  const m = /^unit-(.+)-(\d+)$/.exec(tag);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/**
 * Copies the disk state file's content to the controller and deletes the file (spec §8). A missing file is
 * nothing to do; another read error or a failed controller write is fatal; a failed delete only a warning.
 */
export async function migrateDiskState(
  disk: DiskStateFile,
  client: Pick<MeterStatusClient, "setWorkerState">,
  unitName: string,
  logger: Logger,
): Promise<void> {
  const content = await disk.readRaw();
  if (content === undefined) return;
  await client.setWorkerState(unitName, content);
  try {
    await disk.remove();
  } catch (err) {
    logger.warn(`cannot remove meter status state file ${disk.path}: ${(err as Error).message}`);
  }
}

/**
 * The unit agent's meter-status worker slot (Juju's manifold, spec §8): runs the isolated worker while the
 * API is unreachable and the connected one while it is reachable, migrating the disk state on reconnect.
 */
export class MeterStatusManager {
  /** The unit this agent runs, `app/0`. */
  readonly unitName: string;
  private readonly config: MeterStatusManagerConfig;
  private readonly disk: DiskStateFile;
  private current: IsolatedWorker | ConnectedWorker | undefined;
  private currentMode: MeterStatusMode | undefined;
  private client: MeterStatusClient | undefined;

  /** Throws `NotValid` when the agent is not a unit agent. */
  constructor(config: MeterStatusManagerConfig) {
    const unitName = unitNameFromTag(config.agentTag);
    if (!unitName) {
      throw new MeterStatusWorkerError(
        "NotValid",
        `expected a unit agent, got ${JSON.stringify(config.agentTag)}`,
      );
    }
    this.unitName = unitName;
    this.config = config;
    this.disk = config.diskState ?? new DiskStateFile(join(config.dataDir, STATE_FILE));
  }

  /** The running worker's mode, if any. */
  get mode(): MeterStatusMode | undefined {
    return this.currentMode;
  }

  /** The running worker, if any. */
  get worker(): IsolatedWorker | ConnectedWorker | undefined {
    return this.current;
  }

  /** The API is gone: stop the connected worker and start the isolated one on the disk state. */
  async apiLost(): Promise<IsolatedWorker> {
    await this.stopCurrent();
    this.client = undefined;
    const worker = await startIsolatedWorker({
      runner: this.config.runner,
      stateReadWriter: this.disk,
      clock: this.config.clock,
      logger: this.config.logger,
      amberGracePeriodMs: this.config.amberGracePeriodMs ?? DEFAULT_AMBER_GRACE_MS,
      redGracePeriodMs: this.config.redGracePeriodMs ?? DEFAULT_RED_GRACE_MS,
      ...(this.config.triggerFactory ? { triggerFactory: this.config.triggerFactory } : {}),
    });
    this.current = worker;
    this.currentMode = "isolated";
    return worker;
  }

  /** The API is (back) up: stop the isolated worker, migrate the disk state, start the connected worker. */
  async apiConnected(client: MeterStatusClient): Promise<ConnectedWorker> {
    await this.stopCurrent();
    this.client = client;
    await migrateDiskState(this.disk, client, this.unitName, this.config.logger);
    const worker = await startConnectedWorker({
      runner: this.config.runner,
      stateReadWriter: new ControllerState(client, this.unitName),
      status: client,
      unitName: this.unitName,
      logger: this.config.logger,
    });
    this.current = worker;
    this.currentMode = "connected";
    return worker;
  }

  /** Stops the running worker and starts it again in the same mode (as the agent does after a worker error). */
  async restart(): Promise<void> {
    if (this.currentMode === "connected" && this.client) await this.apiConnected(this.client);
    else if (this.currentMode === "isolated") await this.apiLost();
  }

  /** Stops whichever worker runs. */
  async stop(): Promise<void> {
    await this.stopCurrent();
    this.currentMode = undefined;
  }

  private async stopCurrent(): Promise<void> {
    const worker = this.current;
    this.current = undefined;
    if (!worker) return;
    try {
      await worker.stop();
    } catch (err) {
      this.config.logger.error(`meter status ${this.currentMode} worker died: ${(err as Error).message}`);
    }
  }
}
