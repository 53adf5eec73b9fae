import { WorkerState } from "./types";

/** The timers {@link getTriggers} arms: raw delays in ms (≤ 0 = fire at once); undefined = not armed. */
export interface Triggers {
  amberDelayMs: number | undefined;
  redDelayMs: number | undefined;
}

/** The signature of {@link getTriggers}, injectable into the isolated worker (Juju's TriggerCreator). */
export type TriggerFactory = (
  workerState: WorkerState,
  statusCode: string,
  disconnectedAt: number,
  now: number,
  amberGraceMs: number,
  redGraceMs: number,
) => Triggers;

/**
 * Juju's GetTriggers (spec §10): which escalation timers to arm and when, given the saved worker state,
 * the saved status code (only exactly `RED` matters), when the API was lost and now (all times in ms).
 */
export const getTriggers: TriggerFactory = (
  workerState,
  statusCode,
  disconnectedAt,
  now,
  amberGraceMs,
  redGraceMs,
) => {
  const none: Triggers = { amberDelayMs: undefined, redDelayMs: undefined };
  if (workerState === WorkerState.Done) return none;
  const elapsed = now - disconnectedAt;
  let effective = workerState;
  if (workerState <= WorkerState.WaitingAmber && statusCode === "RED") {
    // Never de-escalate from RED.
    effective = WorkerState.WaitingRed;
  } else if (workerState < WorkerState.Done && elapsed >= redGraceMs) {
    // Both deadlines were missed: go straight to red.
    effective = WorkerState.WaitingRed;
  }
  if (effective === WorkerState.WaitingRed)
    return { amberDelayMs: undefined, redDelayMs: redGraceMs - elapsed };
  if (effective === WorkerState.Uninitialized || effective === WorkerState.WaitingAmber) {
    return { amberDelayMs: amberGraceMs - elapsed, redDelayMs: redGraceMs - elapsed };
  }
  return none;
};
