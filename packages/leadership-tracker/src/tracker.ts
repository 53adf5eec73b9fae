// The unit-side leadership tracker (spec §10, Juju's internal/worker/leadership/tracker.go). Every event
// (claim result, renewal, release, ticket) is handled one at a time in order, as Juju's select loop does.
import { isKind, LeadershipError, messageOf } from "./errors";
import { PendingTicket } from "./ticket";
import type {
  Clock,
  LeadershipClaimer,
  LeadershipTracker,
  Logger,
  Ticket,
  Timer,
  TrackerConfig,
} from "./types";

/** Production guarantee G; each claim asks for 2G and renews G after the claim started. */
export const DEFAULT_GUARANTEE_MS = 30_000;

const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {} };

/** The application of a unit name ("redis/0" → "redis"). */
export function applicationOfUnit(unit: string): string {
  const slash = unit.lastIndexOf("/");
  return slash < 0 ? unit : unit.slice(0, slash);
}

/**
 * Tracks one unit's leadership of its application. It claims as soon as it is constructed; a leader renews
 * every G, a minion blocks until the lease is released and then claims again. Any error other than a
 * denial kills it (`wait()` then gives the error); the agent is expected to start a new one.
 */
export class Tracker implements LeadershipTracker {
  readonly #claimer: LeadershipClaimer;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #unit: string;
  readonly #application: string;
  readonly #guaranteeMs: number;

  #isMinion = true;
  #term: number | undefined;
  #renewAtMs: number | undefined;
  #renewTimer: Timer | undefined;
  #releaseWait: AbortController | undefined;
  #waitingLeader: PendingTicket[] = [];
  #waitingMinion: PendingTicket[] = [];
  #queue: Promise<void> = Promise.resolve();
  #dying = false;
  #error: Error | undefined;
  readonly #done: Promise<void>;
  #markDone!: () => void;

  constructor(config: TrackerConfig) {
    if (!config.claimer) throw new Error("claimer not valid");
    if (!config.clock) throw new Error("clock not valid");
    if (!config.unitName) throw new Error("unitName not valid");
    if (!(config.guaranteeMs > 0)) throw new Error("guaranteeMs not valid");
    this.#claimer = config.claimer;
    this.#clock = config.clock;
    this.#logger = config.logger ?? silentLogger;
    this.#unit = config.unitName;
    this.#application = applicationOfUnit(config.unitName);
    this.#guaranteeMs = config.guaranteeMs;
    this.#done = new Promise<void>((resolve) => {
      this.#markDone = resolve;
    });
    this.#logger.debug(`${this.#unit} making initial claim for ${this.#application} leadership`);
    this.#enqueue(() => this.#refresh());
  }

  applicationName(): string {
    return this.#application;
  }

  claimDurationMs(): number {
    return this.#guaranteeMs;
  }

  term(): number | undefined {
    return this.#term;
  }

  claimLeader(): Ticket {
    return this.#ticket(async (ticket) => ticket.resolve(await this.#isLeader()));
  }

  waitLeader(): Ticket {
    return this.#ticket(async (ticket) => {
      if (await this.#isLeader()) ticket.resolve(true);
      else this.#waitingLeader.push(ticket);
    });
  }

  waitMinion(): Ticket {
    return this.#ticket(async (ticket) => {
      if (await this.#isLeader()) this.#waitingMinion.push(ticket);
      else ticket.resolve(false);
    });
  }

  /**
   * Runs `fn` while this unit leads (spec §10.5). Its signal aborts as soon as leadership changes, and the
   * call then fails with ErrLeadershipChanged; an `fn` failure comes back as "executing leadership func: …".
   */
  async withStableLeadership<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const changed = () => new LeadershipError("ErrLeadershipChanged");
    if (!(await this.claimLeader().wait())) throw changed();
    const guard = new AbortController();
    const minion = this.waitMinion() as PendingTicket;
    minion.ready().then(() => guard.abort(changed()));
    try {
      const value = await fn(guard.signal);
      if (guard.signal.aborted) throw changed();
      return value;
    } catch (err) {
      if (guard.signal.aborted) throw changed();
      throw new Error(`executing leadership func: ${messageOf(err)}`, { cause: err });
    } finally {
      this.#waitingMinion = this.#waitingMinion.filter((t) => t !== minion);
    }
  }

  /** Starts stopping: queued tickets resolve false, the release wait is cancelled. The lease is kept. */
  kill(): void {
    this.#die(undefined);
  }

  /** Resolves once stopped, with the error the tracker died of (undefined after a clean stop). */
  async wait(): Promise<Error | undefined> {
    await this.#done;
    return this.#error;
  }

  /** Kills the tracker and waits for it to stop. */
  async stop(): Promise<Error | undefined> {
    this.kill();
    return this.wait();
  }

  // --- the loop ---

  /** Queues a step; a failing step kills the tracker. `after` runs once the step ran or was skipped. */
  #enqueue(step: () => Promise<void>, after?: () => void): void {
    this.#queue = this.#queue.then(async () => {
      try {
        if (!this.#dying) await step();
      } catch (err) {
        this.#die(err instanceof Error ? err : new Error(messageOf(err)));
      } finally {
        after?.();
      }
    });
  }

  #ticket(handle: (ticket: PendingTicket) => Promise<void>): Ticket {
    const ticket = new PendingTicket();
    if (this.#dying) {
      ticket.resolve(false);
      return ticket;
    }
    // A ticket left unanswered by a failed step or a stop resolves false; queued ones are answered on death.
    this.#enqueue(
      () => handle(ticket),
      () => {
        if (this.#dying && !ticket.resolved) ticket.resolve(false);
      },
    );
    return ticket;
  }

  /** Leader or not; a leader whose renewal is due renews first, so "leader" rests on a claim < G old. */
  async #isLeader(): Promise<boolean> {
    if (!this.#isMinion && this.#renewAtMs !== undefined && this.#clock.now() >= this.#renewAtMs) {
      this.#disarmRenewal();
      await this.#refresh();
    }
    return !this.#isMinion;
  }

  async #refresh(): Promise<void> {
    const durationMs = 2 * this.#guaranteeMs;
    // Taken before the call: the lease runs from the call's start, so that is what the renewal counts from.
    const untilMs = this.#clock.now() + durationMs;
    let term: number;
    try {
      ({ term } = await this.#claimer.claimLeadership(this.#application, this.#unit, durationMs));
    } catch (err) {
      if (this.#dying) return;
      if (isKind(err, "ErrClaimDenied")) return this.#setMinion();
      throw new Error(`leadership failure: ${messageOf(err)}`, { cause: err });
    }
    if (!this.#dying) this.#setLeader(untilMs, term);
  }

  #setLeader(untilMs: number, term: number): void {
    if (this.#isMinion) {
      this.#logger.info(`${this.#unit} promoted to leadership of ${this.#application}`);
    } else if (this.#term !== undefined && term > this.#term) {
      this.#logger.warn(
        `${this.#unit} renewed ${this.#application} leadership with a new term ${term} (was ${this.#term}); ` +
          "the lease lapsed and was re-acquired in between",
      );
    }
    this.#isMinion = false;
    this.#term = term;
    this.#cancelReleaseWait();
    this.#disarmRenewal();
    const renewAtMs = untilMs - this.#guaranteeMs;
    this.#renewAtMs = renewAtMs;
    this.#renewTimer = this.#clock.setTimer(renewAtMs - this.#clock.now(), () => {
      this.#renewTimer = undefined;
      this.#enqueue(async () => {
        if (this.#renewAtMs === renewAtMs) await this.#isLeader();
      });
    });
    for (const ticket of this.#waitingLeader.splice(0)) ticket.resolve(true);
  }

  #setMinion(): void {
    if (!this.#isMinion) this.#logger.info(`${this.#unit} lost leadership of ${this.#application}`);
    this.#isMinion = true;
    this.#disarmRenewal();
    if (!this.#releaseWait) this.#startReleaseWait();
    for (const ticket of this.#waitingMinion.splice(0)) ticket.resolve(true);
  }

  #startReleaseWait(): void {
    const wait = new AbortController();
    this.#releaseWait = wait;
    this.#logger.debug(`${this.#unit} waiting for ${this.#application} leadership release`);
    const ended = (err: unknown) =>
      this.#enqueue(async () => {
        if (this.#releaseWait !== wait) return;
        this.#releaseWait = undefined;
        if (err === undefined) {
          this.#logger.debug(`${this.#unit} claiming lease for ${this.#application} leadership`);
          return this.#refresh();
        }
        if (wait.signal.aborted || isKind(err, "ErrBlockCancelled")) return;
        throw new Error(
          `error while ${this.#unit} waiting for ${this.#application} leadership release: ${messageOf(err)}`,
          { cause: err },
        );
      });
    this.#claimer.blockUntilLeadershipReleased(this.#application, wait.signal).then(
      () => ended(undefined),
      (err: unknown) => ended(err ?? new Error("unknown error")),
    );
  }

  #cancelReleaseWait(): void {
    this.#releaseWait?.abort();
    this.#releaseWait = undefined;
  }

  #disarmRenewal(): void {
    this.#renewTimer?.cancel();
    this.#renewTimer = undefined;
    this.#renewAtMs = undefined;
  }

  #die(err: Error | undefined): void {
    if (this.#dying) return;
    this.#dying = true;
    this.#error = err;
    this.#disarmRenewal();
    this.#cancelReleaseWait();
    for (const ticket of [...this.#waitingLeader.splice(0), ...this.#waitingMinion.splice(0)])
      ticket.resolve(false);
    this.#queue.then(() => this.#markDone());
  }
}
