import { MeterStatusWorkerError, notValid } from "./errors";
import { SerialWorker } from "./serial-worker";
import { blankState } from "./state";
import { getTriggers, type TriggerFactory } from "./triggers";
import type { Clock, HookRunner, Logger, MeterStatusState, StateReadWriter, Timer } from "./types";
import { WorkerState } from "./types";

/** The info the isolated worker reports with AMBER and RED. */
export const DISCONNECTED_INFO = "unit agent has been disconnected";
/** Default grace before AMBER after losing the API (5 min). */
export const DEFAULT_AMBER_GRACE_MS = 5 * 60_000;
/** Default grace before RED after losing the API (15 min). */
export const DEFAULT_RED_GRACE_MS = 15 * 60_000;

/** Configuration of the isolated worker (Juju's IsolatedConfig). */
export interface IsolatedConfig {
  runner: HookRunner;
  stateReadWriter: StateReadWriter;
  clock: Clock;
  logger: Logger;
  amberGracePeriodMs: number;
  redGracePeriodMs: number;
  /** Defaults to {@link getTriggers}. */
  triggerFactory?: TriggerFactory;
}

/** Checks an isolated worker's configuration; throws `NotValid` with Juju's messages (spec §11). */
export function validateIsolatedConfig(config: Partial<IsolatedConfig>): void {
  if (!config.runner) throw notValid("missing Runner");
  if (!config.stateReadWriter) throw notValid("missing StateReadWriter");
  if (!config.clock) throw notValid("missing Clock");
  if (!config.logger) throw notValid("missing Logger");
  if (!(config.amberGracePeriodMs! > 0)) throw notValid("amber grace period");
  if (!(config.redGracePeriodMs! > 0)) throw notValid("red grace period");
  if (config.amberGracePeriodMs! >= config.redGracePeriodMs!) {
    throw new MeterStatusWorkerError(
      "NotValid",
      "amber grace period must be shorter than the red grace period",
    );
  }
}

/**
 * Starts the worker that escalates to AMBER then RED while the API is unreachable (spec §11). Resolves once
 * the state is read and the timers armed; a state read error rejects. Already-due timers fire right after.
 */
export async function startIsolatedWorker(config: IsolatedConfig): Promise<IsolatedWorker> {
  validateIsolatedConfig(config);
  const state = (await config.stateReadWriter.read()) ?? blankState();
  return new IsolatedWorker(config, state);
}

/** The isolated worker; see {@link startIsolatedWorker}. */
export class IsolatedWorker extends SerialWorker {
  private readonly config: IsolatedConfig;
  private readonly state: MeterStatusState;
  private amberPending = false;
  private redPending = false;
  private timers: Timer[] = [];

  /** Use {@link startIsolatedWorker}. */
  constructor(config: IsolatedConfig, state: MeterStatusState) {
    super();
    this.config = config;
    this.state = state;
    const now = config.clock.now();
    // In memory only: nothing is written before the first escalation, so a restart before amber starts over.
    state.disconnected ??= { disconnectedAt: Math.floor(now / 1000), state: WorkerState.WaitingAmber };
    const triggers = (config.triggerFactory ?? getTriggers)(
      state.disconnected.state,
      state.code,
      state.disconnected.disconnectedAt * 1000,
      now,
      config.amberGracePeriodMs,
      config.redGracePeriodMs,
    );
    // Amber is armed first so that, due at once, it is handled before red.
    if (triggers.amberDelayMs !== undefined) {
      this.amberPending = true;
      this.arm(triggers.amberDelayMs, () => this.fireAmber());
    }
    if (triggers.redDelayMs !== undefined) {
      this.redPending = true;
      this.arm(triggers.redDelayMs, () => this.fireRed());
    }
  }

  /** A copy of the in-memory state (for diagnostics and tests). */
  currentState(): MeterStatusState {
    return structuredClone(this.state);
  }

  protected onKill(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  private arm(delayMs: number, fire: () => Promise<void>): void {
    if (delayMs <= 0) {
      this.enqueue(fire);
      return;
    }
    this.timers.push(this.config.clock.setTimer(delayMs, () => this.enqueue(fire)));
  }

  private async fireAmber(): Promise<void> {
    if (!this.amberPending) return;
    this.amberPending = false;
    await this.escalate("AMBER", WorkerState.WaitingRed);
  }

  private async fireRed(): Promise<void> {
    if (!this.redPending) return;
    // Concord: with both due at once, amber is handled first (Juju picks one at random).
    if (this.amberPending) {
      await this.fireAmber();
      if (this.isDying) return;
    }
    this.redPending = false;
    await this.escalate("RED", WorkerState.Done);
  }

  private async escalate(code: "AMBER" | "RED", next: WorkerState): Promise<void> {
    try {
      await this.config.runner.run(code, DISCONNECTED_INFO, this.signal);
    } catch (err) {
      this.config.logger.error(`meter-status-changed runner failed: ${(err as Error).message}`);
    }
    this.state.code = code;
    this.state.info = DISCONNECTED_INFO;
    this.state.disconnected = { disconnectedAt: this.state.disconnected?.disconnectedAt ?? 0, state: next };
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
