// Interfaces of the unit-side leadership code: what the tracker needs from the controller and the clock,
// and what it offers the uniter.
import type { Clock } from "@concord/clock";

export type { Clock, Timer } from "@concord/clock";

/** The minimal logger the tracker needs; pino's logger satisfies it. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

/**
 * The controller's leadership calls, as a unit agent makes them (a gRPC client implements this later).
 * Errors carry a `kind`: ErrClaimDenied for a denied claim, ErrBlockCancelled for a cancelled wait.
 */
export interface LeadershipClaimer {
  /** Claims or renews `unit`'s leadership of `application`; resolves with the fencing term. */
  claimLeadership(application: string, unit: string, durationMs: number): Promise<{ term: number }>;
  /** Resolves once `application` has no leader; `signal` cancels the wait. */
  blockUntilLeadershipReleased(application: string, signal: AbortSignal): Promise<void>;
}

/** A question to the tracker, answered exactly once with true or false. */
export interface Ticket {
  /** Resolves with the answer once the ticket has resolved. */
  wait(): Promise<boolean>;
  /** Resolves once the ticket has resolved, whatever the answer. */
  ready(): Promise<void>;
}

/** The tracker as the uniter sees it (Juju's `leadership.Tracker`). */
export interface LeadershipTracker {
  applicationName(): string;
  /** The guarantee G: a "leader" answer holds for at least this long. */
  claimDurationMs(): number;
  /** True at once when leader (renewing first if due), false at once when minion. */
  claimLeader(): Ticket;
  /** True once this unit is leader; queued while it is a minion. */
  waitLeader(): Ticket;
  /** Resolves once this unit is not leader: true if it had to wait for that, false if it already was not. */
  waitMinion(): Ticket;
  /** The term of the latest successful claim, if any. */
  term(): number | undefined;
}

/** Configuration of a `Tracker`. */
export interface TrackerConfig {
  claimer: LeadershipClaimer;
  /** The unit this tracker claims for; its application is derived from it. */
  unitName: string;
  clock: Clock;
  /** The guarantee G (production 30 s); each claim asks for 2G. */
  guaranteeMs: number;
  logger?: Logger;
}
