import { MeterStatusWorkerError, notValid } from "./errors";
import { SerialWorker } from "./serial-worker";
import { blankState } from "./state";
import type {
  HookRunner,
  Logger,
  MeterStatusClient,
  MeterStatusState,
  NotifyWatcher,
  StateReadWriter,
} from "./types";

/** Configuration of the connected worker (Juju's ConnectedConfig). */
export interface ConnectedConfig {
  runner: HookRunner;
  stateReadWriter: StateReadWriter;
  /** The controller's meter-status API. */
  status: Pick<MeterStatusClient, "getMeterStatus" | "watchMeterStatus">;
  /** The unit whose status is watched, `app/0`. */
  unitName: string;
  logger: Logger;
}

/** Checks a connected worker's configuration; throws `NotValid` with Juju's messages (spec §12). */
export function validateConnectedConfig(config: Partial<ConnectedConfig>): void {
  if (!config.runner) throw notValid("missing Runner");
  if (!config.stateReadWriter) throw notValid("missing StateReadWriter");
  if (!config.status) throw notValid("missing Status");
  if (!config.logger) throw notValid("missing Logger");
  if (!config.unitName) throw notValid("missing UnitName");
}

/**
 * Starts the worker that runs `meter-status-changed` whenever the controller's status differs from the
 * saved one (spec §12). Resolves after set-up (state read, watch started); set-up errors reject.
 */
export async function startConnectedWorker(config: ConnectedConfig): Promise<ConnectedWorker> {
  validateConnectedConfig(config);
  const state = (await config.stateReadWriter.read()) ?? blankState();
  const watcher = await config.status.watchMeterStatus(config.unitName);
  return new ConnectedWorker(config, state, watcher);
}

/** The connected worker; see {@link startConnectedWorker}. */
export class ConnectedWorker extends SerialWorker {
  private readonly config: ConnectedConfig;
  // The whole state is kept, including a `disconnected` block migrated from disk: it is written back unchanged.
  private readonly state: MeterStatusState;
  private readonly watcher: NotifyWatcher;
  private readonly iterator: AsyncIterator<unknown>;
  private readonly killed: Promise<IteratorResult<unknown>>;
  private wake!: (r: IteratorResult<unknown>) => void;

  /** Use {@link startConnectedWorker}. */
  constructor(config: ConnectedConfig, state: MeterStatusState, watcher: NotifyWatcher) {
    super();
    this.config = config;
    this.state = state;
    this.watcher = watcher;
    this.iterator = watcher[Symbol.asyncIterator]();
    this.killed = new Promise((resolve) => {
      this.wake = resolve;
    });
    void this.loop();
  }

  /** A copy of the in-memory state (for diagnostics and tests). */
  currentState(): MeterStatusState {
    return structuredClone(this.state);
  }

  protected onKill(): void {
    this.wake({ done: true, value: undefined });
    Promise.resolve()
      .then(() => this.iterator.return?.())
      .catch(() => undefined);
    Promise.resolve()
      .then(() => this.watcher.stop?.())
      .catch((err: Error) => this.config.logger.warn(`cannot stop meter status watcher: ${err.message}`));
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        const next = await Promise.race([this.iterator.next(), this.killed]);
        if (this.isDying) return;
        if (next.done) {
          this.die(new MeterStatusWorkerError("WatcherStopped", "meter status watcher stopped"));
          return;
        }
        this.enqueue(() => this.handle());
        await this.idle();
      }
    } catch (err) {
      this.die(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async handle(): Promise<void> {
    const status = await this.config.status.getMeterStatus(this.config.unitName);
    if (status.code === this.state.code && status.info === this.state.info) return;
    try {
      await this.config.runner.run(status.code, status.info, this.signal);
    } catch (err) {
      this.config.logger.error(`meter-status-changed runner failed: ${(err as Error).message}`);
    }
    this.state.code = status.code;
    this.state.info = status.info;
    try {
      await this.config.stateReadWriter.write(this.state);
    } catch (err) {
      throw new MeterStatusWorkerError(
        "StateWriteFailed",
        `failed to record meter status worker state: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}
