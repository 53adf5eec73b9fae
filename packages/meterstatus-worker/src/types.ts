/** A meter status as the agent sees it: code (`GREEN`, `AMBER`, `RED`, ...) and free-text info. */
export interface MeterStatus {
  code: string;
  info: string;
}

/** The isolated worker's progress (spec §9); values outside 0–3 can be read from a file and arm nothing. */
export const WorkerState = {
  Uninitialized: 0,
  WaitingAmber: 1,
  WaitingRed: 2,
  Done: 3,
} as const;

/** A worker state value, see {@link WorkerState}. */
export type WorkerState = number;

/** The `disconnected` block of the saved state: when the API was lost and how far escalation got. */
export interface Disconnected {
  /** Unix seconds; 0 = unset (omitted from the YAML). */
  disconnectedAt: number;
  /** Worker state; 0 = unset (omitted from the YAML). */
  state: WorkerState;
}

/** The worker's saved state (spec §9), kept on disk by the isolated worker and on the controller by the connected one. */
export interface MeterStatusState {
  code: string;
  info: string;
  disconnected?: Disconnected;
}

/** Where a worker keeps its state. `read` resolves undefined for "no state"; any rejection is fatal. */
export interface StateReadWriter {
  read(): Promise<MeterStatusState | undefined>;
  write(state: MeterStatusState): Promise<void>;
}

/** Runs `meter-status-changed` with the given status. Must never reject: hook and lock errors are logged. */
export interface HookRunner {
  run(code: string, info: string, signal: AbortSignal): Promise<void>;
}

/** A notify watcher: every value is one "something changed" event; the first is the initial event. */
export type NotifyWatcher = AsyncIterable<unknown> & { stop?(): void | Promise<void> };

/**
 * The controller's meter-status API as the unit agent uses it (spec §6); a gRPC client implements it.
 * `getMeterStatus` returns the agent-facing (already mapped) status.
 */
export interface MeterStatusClient {
  getMeterStatus(unitName: string): Promise<MeterStatus>;
  watchMeterStatus(unitName: string): NotifyWatcher | Promise<NotifyWatcher>;
  /** The worker's saved state as YAML; "" means no state. */
  getWorkerState(unitName: string): Promise<string>;
  setWorkerState(unitName: string, yaml: string): Promise<void>;
}

export type { Clock, Timer } from "@concord/clock";

/** The logging the workers need; pino's logger fits. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** A running worker (Juju's worker contract). */
export interface Worker {
  /** Asks the worker to stop; returns at once. */
  kill(): void;
  /** Resolves when the worker has stopped; rejects with the error that killed it. */
  wait(): Promise<void>;
  /** `kill` then `wait`. */
  stop(): Promise<void>;
  /** The error that killed the worker, once it has died of one. */
  readonly fatalError: Error | undefined;
}
