// Interfaces of the lease domain. The store is implemented in PostgreSQL (and in memory for unit tests);
// the manager, the validators and the API rules are written against these types only.
import type { Clock } from "@concord/clock";

export type { Clock, Timer } from "@concord/clock";

/** The namespace of application leadership leases: lease name = application, holder = unit. */
export const LEADERSHIP_NAMESPACE = "application-leadership";

/** Identifies one lease. Leases with the same name in another namespace or model are independent. */
export interface LeaseKey {
  namespace: string;
  modelUUID: string;
  lease: string;
}

/** A lease as the store records it. Times are milliseconds on the store's clock (the database's). */
export interface LeaseInfo {
  holder: string;
  startMs: number;
  /** The latest time at which the lease might still be valid; nothing may expire it earlier. */
  expiryMs: number;
  /** Fencing term of the current tenure (spec §8). */
  term: number;
}

/** One row of a store listing. */
export interface LeaseEntry {
  key: LeaseKey;
  info: LeaseInfo;
}

/** The pin set of one lease key; present even when nobody holds the lease. */
export interface PinEntry {
  key: LeaseKey;
  entities: string[];
}

/** Result of a successful claim or extend: the term of the lease now held. */
export interface ClaimResult {
  term: number;
}

/**
 * The lease store (spec §6). Only the manager calls it. Expiry is decided by the store's own clock: an
 * unpinned lease whose expiry has passed counts as absent in every operation. Failures are `LeaseError`s of
 * kind ErrHeld, ErrInvalid, ErrTimeout (transient, retryable) or ErrAborted (the signal fired); anything else
 * is treated as fatal by the manager.
 */
export interface LeaseStore {
  /** Creates the lease with a new term; ErrHeld when a live lease exists for the key (even the caller's). */
  claimLease(key: LeaseKey, holder: string, durationMs: number, signal?: AbortSignal): Promise<ClaimResult>;
  /** Sets expiry = max(expiry, now + duration) for the holder's live lease, keeping the term; else ErrInvalid. */
  extendLease(key: LeaseKey, holder: string, durationMs: number, signal?: AbortSignal): Promise<ClaimResult>;
  /**
   * Optional fast path of the manager's claim (spec §7.2's read-then-claim-or-extend, fused): extends the
   * holder's live lease keeping its term, claims the key with a new term when no live lease exists, fails with
   * ErrHeld when another holder's live lease exists and ErrInvalid when the lease changed under it. A store
   * without it gets the read and the separate calls.
   */
  claimOrExtendLease?(
    key: LeaseKey,
    holder: string,
    durationMs: number,
    signal?: AbortSignal,
  ): Promise<ClaimResult>;
  /** Deletes the holder's live lease; ErrInvalid when missing or held by another. Pins stay on the key. */
  revokeLease(key: LeaseKey, holder: string, signal?: AbortSignal): Promise<void>;
  /** A recent snapshot of the live leases, optionally of one key only. */
  leases(filter?: LeaseKey, signal?: AbortSignal): Promise<LeaseEntry[]>;
  /** The live leases of one namespace and model. */
  leaseGroup(namespace: string, modelUUID: string, signal?: AbortSignal): Promise<LeaseEntry[]>;
  /** Adds the entity to the key's pin set, whether or not the lease is held; idempotent. */
  pinLease(key: LeaseKey, entity: string, signal?: AbortSignal): Promise<void>;
  /** Removes the entity from the key's pin set; no error when it was not there. */
  unpinLease(key: LeaseKey, entity: string, signal?: AbortSignal): Promise<void>;
  /** Every non-empty pin set, including those of keys with no holder. */
  pinned(signal?: AbortSignal): Promise<PinEntry[]>;
  /** Deletes every unpinned lease whose expiry has passed. Idempotent; safe on every instance at once. */
  expireLeases(signal?: AbortSignal): Promise<void>;
}

/** The minimal logger the domain needs; pino's logger satisfies it. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/**
 * Validates names and durations for one namespace (Juju's `lease.Secretary`). Each method returns undefined
 * when the value is valid, or the reason it is not (for example "not an application name").
 */
export interface Secretary {
  checkLease(lease: string): string | undefined;
  checkHolder(holder: string): string | undefined;
  checkDuration(durationMs: number): string | undefined;
}

/** Configuration of a `LeaseManager`; `validateManagerConfig` rejects a missing or invalid field. */
export interface ManagerConfig {
  store: LeaseStore;
  clock: Clock;
  logger: Logger;
  /** Validators by namespace; a namespace without one is rejected when binding. */
  secretaries: Record<string, Secretary>;
  /** Longest time between two evaluations of the waiters (production 60 s). Must be > 0. */
  maxSleepMs: number;
  /** Period of the expiry sweep and waiter evaluation; default 1 s, and never more than maxSleepMs. */
  sweepIntervalMs?: number;
  /** How long shutdown waits for running claims and revokes; default 55 s. */
  shutdownWaitMs?: number;
  /** Claim and revoke attempts before giving up; default 10. */
  maxAttempts?: number;
  /** Random source in [0, 1) for backoff jitter; default Math.random. */
  random?: () => number;
  /** Receives the diagnostic dump written when shutdown times out; default the logger at warn. */
  dumpDiagnostics?: (dump: string) => void;
}

/** Claims leases and waits for their release (Juju's `lease.Claimer`), bound to a namespace and model. */
export interface Claimer {
  claim(lease: string, holder: string, durationMs: number): Promise<ClaimResult>;
  waitUntilExpired(lease: string, options?: WaitOptions): Promise<void>;
}

/** Options of `Claimer.waitUntilExpired`. */
export interface WaitOptions {
  /** Cancels the wait (→ ErrWaitCancelled); has no effect on the lease. */
  signal?: AbortSignal;
  /** Called once the wait is registered; a release after that point is never missed. */
  started?: () => void;
}

/** Revokes leases (Juju's `lease.Revoker`). */
export interface Revoker {
  revoke(lease: string, holder: string): Promise<void>;
}

/** A holder's claim on a lease, checked on demand. */
export interface Token {
  /** Succeeds with the holder's current term, or fails with ErrNotHeld. */
  check(): Promise<ClaimResult>;
}

/** Builds tokens (Juju's `lease.Checker`); building never fails, `check()` validates. */
export interface Checker {
  token(lease: string, holder: string): Token;
}

/** Pins leases so they do not expire (Juju's `lease.Pinner`). */
export interface Pinner {
  pin(lease: string, entity: string): Promise<void>;
  unpin(lease: string, entity: string): Promise<void>;
  /** Lease name → pinning entities, including names with no holder. */
  pinned(): Promise<Record<string, string[]>>;
}

/** Lists current holders (Juju's `lease.Reader`). */
export interface Reader {
  /** Lease name → holder, for the bound namespace and model only. */
  leases(): Promise<Record<string, string>>;
}

/** Everything a client can do with leases of one namespace and model. */
export interface LeaseClient extends Claimer, Revoker, Checker, Pinner, Reader {
  readonly namespace: string;
  readonly modelUUID: string;
}
