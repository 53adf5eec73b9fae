// The lease manager (spec §7): validates on the caller's side, runs checks, waits, pins and wake-ups one at
// a time in its main loop, and runs claims and revokes concurrently outside it, with retries.
import { setMaxListeners } from "node:events";
import { errorKind, LeaseError } from "./errors";
import type {
  ClaimResult,
  Clock,
  LeaseClient,
  LeaseKey,
  LeaseStore,
  Logger,
  ManagerConfig,
  Secretary,
  Timer,
  Token,
  WaitOptions,
} from "./types";
import { formatGoDuration } from "./validation";

/** Production values of the manager's timing (spec §12). */
export const managerDefaults = {
  maxSleepMs: 60_000,
  sweepIntervalMs: 1_000,
  shutdownWaitMs: 55_000,
  maxAttempts: 10,
  initialBackoffMs: 50,
  backoffFactor: 1.6,
} as const;

interface Waiter {
  key: LeaseKey;
  settle(err?: Error): void;
}

const stopped = () => new LeaseError("ErrStopped");
const keyString = (key: LeaseKey) => `${key.namespace}\u0000${key.modelUUID}\u0000${key.lease}`;
const describeKey = (key: LeaseKey) => `${key.namespace}/${key.modelUUID}/${key.lease}`;
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Throws NotValid ("<field> not valid") for a missing or invalid configuration field. */
export function validateManagerConfig(config: ManagerConfig): void {
  const invalid = (field: string) => new LeaseError("NotValid", `${field} not valid`);
  if (!config || typeof config !== "object") throw invalid("config");
  if (!config.store) throw invalid("store");
  if (!config.clock) throw invalid("clock");
  if (!config.logger) throw invalid("logger");
  if (!config.secretaries || typeof config.secretaries !== "object") throw invalid("secretaries");
  if (!(config.maxSleepMs > 0)) throw invalid("maxSleepMs");
  if (config.sweepIntervalMs !== undefined && !(config.sweepIntervalMs > 0)) throw invalid("sweepIntervalMs");
  if (config.shutdownWaitMs !== undefined && !(config.shutdownWaitMs >= 0)) throw invalid("shutdownWaitMs");
  if (config.maxAttempts !== undefined && !(Number.isInteger(config.maxAttempts) && config.maxAttempts > 0)) {
    throw invalid("maxAttempts");
  }
}

/**
 * The lease manager. It starts when constructed, serves every (namespace, model) through `bind`, and runs
 * until `stop()` or a fatal store error, after which every call fails with ErrStopped.
 */
export class LeaseManager {
  readonly #store: LeaseStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #secretaries: Record<string, Secretary>;
  readonly #sweepMs: number;
  readonly #shutdownWaitMs: number;
  readonly #maxAttempts: number;
  readonly #random: () => number;
  readonly #dump: (dump: string) => void;

  readonly #abort = new AbortController();
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #inflight = new Map<Promise<unknown>, string>();
  #loopTail: Promise<unknown> = Promise.resolve();
  #tick: Timer | undefined;
  #sweepPending = false;
  #dying = false;
  #deathError: Error | undefined;
  readonly #stopped: Promise<never>;
  #rejectStopped!: (err: Error) => void;
  readonly #done: Promise<void>;
  #markDone!: () => void;

  constructor(config: ManagerConfig) {
    validateManagerConfig(config);
    // Every claim sleeping in its retry backoff listens on the stop signal; there may be many at once.
    setMaxListeners(0, this.#abort.signal);
    this.#store = config.store;
    this.#clock = config.clock;
    this.#logger = config.logger;
    this.#secretaries = config.secretaries;
    this.#sweepMs = Math.min(config.sweepIntervalMs ?? managerDefaults.sweepIntervalMs, config.maxSleepMs);
    this.#shutdownWaitMs = config.shutdownWaitMs ?? managerDefaults.shutdownWaitMs;
    this.#maxAttempts = config.maxAttempts ?? managerDefaults.maxAttempts;
    this.#random = config.random ?? Math.random;
    this.#dump = config.dumpDiagnostics ?? ((dump) => this.#logger.warn(dump));
    this.#stopped = new Promise<never>((_, reject) => {
      this.#rejectStopped = reject;
    });
    this.#stopped.catch(() => undefined);
    this.#done = new Promise<void>((resolve) => {
      this.#markDone = resolve;
    });
    // The first evaluation reads the store at start-up; later ones follow the sweep ticks.
    this.#requestSweep();
    this.#armTick();
  }

  /** True until the manager starts dying. */
  get alive(): boolean {
    return !this.#dying;
  }

  /** The fatal error the manager died with; undefined while alive or after a clean stop. */
  get deathError(): Error | undefined {
    return this.#deathError;
  }

  /** Resolves once the manager is dead, with its fatal error if any. */
  async wait(): Promise<Error | undefined> {
    await this.#done;
    return this.#deathError;
  }

  /** Starts stopping the manager; pending waiters and later calls get ErrStopped. */
  kill(): void {
    this.#die(undefined);
  }

  /** Stops the manager and waits (up to the shutdown wait) for running claims and revokes. */
  async stop(): Promise<void> {
    this.kill();
    await this.#done;
  }

  /** A client view bound to one namespace and model; throws NotValid for a namespace with no validator. */
  bind(namespace: string, modelUUID: string): LeaseClient {
    const secretary = this.#secretaries[namespace];
    if (!secretary) throw new LeaseError("NotValid", `unknown lease namespace ${JSON.stringify(namespace)}`);
    const keyOf = (lease: string): LeaseKey => ({ namespace, modelUUID, lease });
    const notValid = (prefix: string, detail: string | undefined) => {
      if (detail !== undefined) throw new LeaseError("NotValid", `${prefix}: ${detail}`);
    };
    const quote = JSON.stringify;
    return {
      namespace,
      modelUUID,
      claim: async (lease, holder, durationMs) => {
        notValid(`cannot claim lease ${quote(lease)}`, secretary.checkLease(lease));
        notValid(`cannot claim lease for holder ${quote(holder)}`, secretary.checkHolder(holder));
        notValid(
          `cannot claim lease for ${formatGoDuration(durationMs)}`,
          secretary.checkDuration(durationMs),
        );
        return this.#claim(keyOf(lease), holder, durationMs);
      },
      waitUntilExpired: async (lease, options) => {
        notValid(`cannot wait for lease ${quote(lease)} expiry`, secretary.checkLease(lease));
        return this.#waitUntilExpired(keyOf(lease), options ?? {});
      },
      revoke: async (lease, holder) => {
        notValid(`cannot revoke lease ${quote(lease)}`, secretary.checkLease(lease));
        notValid(`cannot revoke lease for holder ${quote(holder)}`, secretary.checkHolder(holder));
        return this.#revoke(keyOf(lease), holder);
      },
      token: (lease, holder): Token => ({
        check: async () => {
          notValid(`cannot check lease ${quote(lease)}`, secretary.checkLease(lease));
          notValid(`cannot check holder ${quote(holder)}`, secretary.checkHolder(holder));
          return this.#check(keyOf(lease), holder);
        },
      }),
      pin: async (lease, entity) => {
        notValid(`cannot pin lease ${quote(lease)}`, secretary.checkLease(lease));
        return this.#pin(keyOf(lease), entity, true);
      },
      unpin: async (lease, entity) => {
        notValid(`cannot unpin lease ${quote(lease)}`, secretary.checkLease(lease));
        return this.#pin(keyOf(lease), entity, false);
      },
      pinned: async () => {
        const result: Record<string, string[]> = {};
        for (const entry of await this.#store.pinned(this.#abort.signal)) {
          if (entry.key.namespace === namespace && entry.key.modelUUID === modelUUID) {
            result[entry.key.lease] = [...entry.entities].sort();
          }
        }
        return result;
      },
      leases: async () => {
        const result: Record<string, string> = {};
        for (const entry of await this.#store.leaseGroup(namespace, modelUUID, this.#abort.signal)) {
          // The store filters already; checking again keeps another model's leader out of any listing.
          if (entry.key.namespace === namespace && entry.key.modelUUID === modelUUID) {
            result[entry.key.lease] = entry.info.holder;
          }
        }
        return result;
      },
    };
  }

  // --- claims and revokes: concurrent, outside the loop ---

  #claim(key: LeaseKey, holder: string, durationMs: number): Promise<ClaimResult> {
    if (this.#dying) return Promise.reject(stopped());
    const work = this.#track(
      this.#claimWork(key, holder, durationMs),
      `claim ${describeKey(key)} for ${holder}`,
    );
    return this.#reply(work);
  }

  async #claimWork(key: LeaseKey, holder: string, durationMs: number): Promise<ClaimResult> {
    const signal = this.#abort.signal;
    try {
      return await this.#withRetries(async () => {
        // A renewal is the common claim: a store that fuses the branch answers it in one round trip.
        if (this.#store.claimOrExtendLease) {
          return this.#store.claimOrExtendLease(key, holder, durationMs, signal);
        }
        const [current] = await this.#store.leases(key, signal);
        if (!current) return this.#store.claimLease(key, holder, durationMs, signal);
        if (current.info.holder === holder) return this.#store.extendLease(key, holder, durationMs, signal);
        throw new LeaseError("ErrClaimDenied");
      });
    } catch (err) {
      switch (errorKind(err)) {
        case "ErrClaimDenied":
          throw err;
        case "ErrHeld":
          // Lost the insert race (the unique key says someone else got there first), or the fused claim saw
          // another holder.
          throw new LeaseError("ErrClaimDenied", undefined, { cause: err });
        case "ErrInvalid":
          this.#logger.info(`claim of ${describeKey(key)} for ${holder} denied after repeated stale reads`);
          throw new LeaseError("ErrClaimDenied", undefined, { cause: err });
        case "ErrTimeout":
          throw err;
        case "ErrAborted":
        case "ErrStopped":
          throw stopped();
        default:
          this.#die(err instanceof Error ? err : new Error(String(err)));
          throw stopped();
      }
    }
  }

  #revoke(key: LeaseKey, holder: string): Promise<void> {
    if (this.#dying) return Promise.reject(stopped());
    const work = this.#track(this.#revokeWork(key, holder), `revoke ${describeKey(key)} for ${holder}`);
    return this.#reply(work);
  }

  async #revokeWork(key: LeaseKey, holder: string): Promise<void> {
    const signal = this.#abort.signal;
    try {
      await this.#withRetries(async () => {
        const [current] = await this.#store.leases(key, signal);
        if (!current) return;
        if (current.info.holder !== holder) throw new LeaseError("ErrNotHeld");
        await this.#store.revokeLease(key, holder, signal);
        // Waiters go at once, with no timer involved: this is how a dying leader hands over promptly.
        this.#releaseKey(keyString(key));
      });
    } catch (err) {
      switch (errorKind(err)) {
        case "ErrNotHeld":
        case "ErrTimeout":
          throw err;
        case "ErrInvalid":
          // ErrInvalid never reaches a client; after the retries the caller evidently does not hold it.
          throw new LeaseError("ErrNotHeld", undefined, { cause: err });
        case "ErrAborted":
        case "ErrStopped":
          throw stopped();
        default:
          this.#die(err instanceof Error ? err : new Error(String(err)));
          throw stopped();
      }
    }
  }

  async #withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const kind = errorKind(err);
        const retryable = kind === "ErrInvalid" || kind === "ErrTimeout";
        if (!retryable || n >= this.#maxAttempts || this.#dying) throw err;
        await this.#sleep(this.#backoffMs(n));
      }
    }
  }

  #backoffMs(attempt: number): number {
    const base = managerDefaults.initialBackoffMs * managerDefaults.backoffFactor ** (attempt - 1);
    return base * (0.9 + 0.2 * this.#random());
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#abort.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(stopped());
      const onAbort = () => {
        timer.cancel();
        reject(stopped());
      };
      const timer = this.#clock.setTimer(ms, () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  // --- the main loop: checks, waits, pins, wake-ups, one at a time ---

  #inLoop<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#loopTail.then(() => {
      if (this.#dying) throw stopped();
      return fn();
    });
    this.#loopTail = run.catch(() => undefined);
    return run;
  }

  #check(key: LeaseKey, holder: string): Promise<ClaimResult> {
    if (this.#dying) return Promise.reject(stopped());
    return this.#reply(
      this.#inLoop(async () => {
        const [current] = await this.#storeCall(() => this.#store.leases(key, this.#abort.signal));
        if (current && current.info.holder === holder) return { term: current.info.term };
        throw new LeaseError("ErrNotHeld");
      }),
    );
  }

  #pin(key: LeaseKey, entity: string, pin: boolean): Promise<void> {
    if (this.#dying) return Promise.reject(stopped());
    const signal = this.#abort.signal;
    const done = this.#inLoop(() =>
      this.#storeCall(() =>
        pin ? this.#store.pinLease(key, entity, signal) : this.#store.unpinLease(key, entity, signal),
      ),
    );
    // An unpin can make an overdue lease expire: evaluate the waiters right away, not at the next tick.
    if (!pin)
      done.then(
        () => this.#requestSweep(),
        () => undefined,
      );
    return this.#reply(done);
  }

  /** Store errors of loop operations go back to the caller; only an abort means the manager is stopping. */
  async #storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (errorKind(err) === "ErrAborted") throw stopped();
      throw err;
    }
  }

  #waitUntilExpired(key: LeaseKey, options: WaitOptions): Promise<void> {
    if (this.#dying) return Promise.reject(stopped());
    const { signal, started } = options;
    if (signal?.aborted) return Promise.reject(new LeaseError("ErrWaitCancelled"));
    const id = keyString(key);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const onAbort = () => waiter.settle(new LeaseError("ErrWaitCancelled"));
      const waiter: Waiter = {
        key,
        settle: (err) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener("abort", onAbort);
          const set = this.#waiters.get(id);
          set?.delete(waiter);
          if (set?.size === 0) this.#waiters.delete(id);
          if (err) reject(err);
          else resolve();
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#inLoop(async () => {
        if (settled) return;
        const set = this.#waiters.get(id) ?? new Set<Waiter>();
        this.#waiters.set(id, set);
        set.add(waiter);
        started?.();
        // Absent on arrival: confirmed from the store, never from a cache (see Juju PR #13232).
        await this.#releaseAbsent(key);
      }).catch((err) => waiter.settle(err instanceof Error ? err : new Error(String(err))));
    });
  }

  #releaseKey(id: string): void {
    const set = this.#waiters.get(id);
    if (!set) return;
    for (const waiter of [...set]) waiter.settle();
  }

  /** Releases the waiters whose lease the store no longer has (of one key, or of every waited key). */
  async #releaseAbsent(only?: LeaseKey): Promise<void> {
    if (this.#waiters.size === 0) return;
    let live: Set<string>;
    try {
      const entries = await this.#store.leases(only, this.#abort.signal);
      live = new Set(entries.map((entry) => keyString(entry.key)));
    } catch (err) {
      // The next tick follows within a second; a waiter is never released on a failed read.
      if (!this.#dying) this.#logger.warn(`cannot evaluate lease waiters: ${messageOf(err)}`);
      return;
    }
    const ids = only ? [keyString(only)] : [...this.#waiters.keys()];
    for (const id of ids) if (!live.has(id)) this.#releaseKey(id);
  }

  #armTick(): void {
    if (this.#dying) return;
    this.#tick = this.#clock.setTimer(this.#sweepMs, () => {
      this.#tick = undefined;
      this.#requestSweep();
      this.#armTick();
    });
  }

  /** Expires overdue leases and releases their waiters; skipped while a previous sweep is still queued. */
  #requestSweep(): void {
    if (this.#dying || this.#sweepPending) return;
    this.#sweepPending = true;
    this.#inLoop(async () => {
      this.#sweepPending = false;
      try {
        await this.#store.expireLeases(this.#abort.signal);
      } catch (err) {
        if (!this.#dying) this.#logger.warn(`lease expiry sweep failed: ${messageOf(err)}`);
      }
      await this.#releaseAbsent();
    }).catch(() => {
      this.#sweepPending = false;
    });
  }

  // --- replies and death ---

  #track<T>(work: Promise<T>, what: string): Promise<T> {
    this.#inflight.set(work, what);
    const forget = () => this.#inflight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** The caller's answer: the work's result, or ErrStopped once the manager is dying. */
  async #reply<T>(work: Promise<T>): Promise<T> {
    try {
      const value = await Promise.race([work, this.#stopped]);
      if (this.#dying) throw stopped();
      return value;
    } catch (err) {
      if (this.#dying) throw stopped();
      throw err;
    }
  }

  #die(err: Error | undefined): void {
    if (this.#dying) return;
    this.#dying = true;
    this.#deathError = err;
    if (err) this.#logger.error(`lease manager died: ${err.message}`);
    this.#tick?.cancel();
    this.#abort.abort();
    this.#rejectStopped(stopped());
    for (const set of [...this.#waiters.values()]) for (const waiter of [...set]) waiter.settle(stopped());
    void this.#finish();
  }

  async #finish(): Promise<void> {
    const running = [...this.#inflight.entries()];
    if (running.length > 0) {
      let timer: Timer | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = this.#clock.setTimer(this.#shutdownWaitMs, () => resolve(true));
      });
      const finished = Promise.allSettled(running.map(([work]) => work)).then(() => false);
      const late = await Promise.race([finished, timedOut]);
      timer?.cancel();
      if (late) {
        const still = [...this.#inflight.values()];
        this.#dump(
          `lease manager stopped with ${still.length} operation(s) still running after ` +
            `${formatGoDuration(this.#shutdownWaitMs)}:\n${still.map((what) => `  ${what}`).join("\n")}`,
        );
      }
    }
    this.#markDone();
  }
}
