import { MeterStatusError } from "./errors";
import { type MeterStatus, MeterStatusCode } from "./meter-status";

/** Default grace period after the last successful send before RED (7 days). */
export const DEFAULT_GRACE_PERIOD_MS = 7 * 24 * 60 * 60 * 1000;
/** Consecutive failed sends that turn the status AMBER. */
export const CONSECUTIVE_ERROR_THRESHOLD = 3;

/** A model's metrics-manager state (spec §4). Times are ms since the Unix epoch. */
export interface MetricsManagerState {
  /** Undefined until the first successful send. */
  lastSuccessfulSend: number | undefined;
  consecutiveErrors: number;
  gracePeriodMs: number;
}

/** The state a new model starts with. */
export function newMetricsManager(): MetricsManagerState {
  return { lastSuccessfulSend: undefined, consecutiveErrors: 0, gracePeriodMs: DEFAULT_GRACE_PERIOD_MS };
}

/** The metrics-manager status at `now`: GREEN below 3 failures, then RED once the grace period passed, else AMBER. */
export function metricsManagerStatus(state: MetricsManagerState, now: number): MeterStatus {
  if (state.consecutiveErrors < CONSECUTIVE_ERROR_THRESHOLD)
    return { code: MeterStatusCode.Green, info: "ok" };
  // Never sent successfully reads as the zero time: the grace period has always passed.
  const since = state.lastSuccessfulSend ?? Number.NEGATIVE_INFINITY;
  if (since + state.gracePeriodMs <= now) {
    return { code: MeterStatusCode.Red, info: "failed to send metrics, exceeded grace period" };
  }
  return { code: MeterStatusCode.Amber, info: "failed to send metrics" };
}

/** A send to the collector failed. */
export function recordFailedSend(state: MetricsManagerState): MetricsManagerState {
  return { ...state, consecutiveErrors: state.consecutiveErrors + 1 };
}

/** A send with at least one acknowledged batch succeeded at `now`. */
export function recordSuccessfulSend(state: MetricsManagerState, now: number): MetricsManagerState {
  return { ...state, lastSuccessfulSend: now, consecutiveErrors: 0 };
}

/** Sets the grace period; a negative one is rejected (`NotValid`). */
export function setGracePeriod(state: MetricsManagerState, gracePeriodMs: number): MetricsManagerState {
  if (gracePeriodMs < 0) throw new MeterStatusError("NotValid", "grace period can't be negative");
  return { ...state, gracePeriodMs };
}

/** Applies the collector's grace period: only one > 0 that differs from the current one replaces it. */
export function applyCollectorGracePeriod(
  state: MetricsManagerState,
  gracePeriodMs: number,
): MetricsManagerState {
  if (gracePeriodMs < 0) throw new MeterStatusError("NotValid", "grace period can't be negative");
  if (gracePeriodMs === 0 || gracePeriodMs === state.gracePeriodMs) return state;
  return setGracePeriod(state, gracePeriodMs);
}
