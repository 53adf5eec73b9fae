/** A pending timer; cancelling a fired or cancelled timer does nothing. */
export interface Timer {
  cancel(): void;
}

/** Time as Concord's code sees it: every time-based rule takes a Clock so tests can drive it by hand. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once, `delayMs` from now. */
  setTimer(delayMs: number, fn: () => void): Timer;
}

/** The wall clock, for production. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Lets promise chains that need no I/O run to completion: a few turns of the event loop; no time passes. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface PendingTimer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to; timers fire, in deadline order, inside `advance`. */
export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  #timers: PendingTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  /** The current time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at now + `delayMs`. */
  setTimer(delayMs: number, fn: () => void): Timer {
    const timer: PendingTimer = {
      at: this.#now + Math.max(0, delayMs),
      order: this.#order++,
      fn,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including timers set while firing). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      const due = this.#timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.#timers.splice(this.#timers.indexOf(due), 1);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = target;
  }

  /** When the earliest pending timer falls due, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.#timers) if (!t.cancelled && (next === undefined || t.at < next)) next = t.at;
    return next;
  }

  /**
   * Moves time forward to `target` (never backwards) one due timer at a time, awaiting `settleFn` before each
   * timer and at the end, so that asynchronous work a timer starts can arm the next timer before time moves on.
   */
  async advanceToSettled(target: number, settleFn: () => Promise<void> = settle): Promise<void> {
    for (;;) {
      await settleFn();
      const next = this.nextTimerAt();
      if (next === undefined || next > target) break;
      this.advance(Math.max(0, next - this.#now));
    }
    if (target > this.#now) this.advance(target - this.#now);
    await settleFn();
  }

  /** {@link advanceToSettled} by a duration. */
  advanceSettled(ms: number, settleFn: () => Promise<void> = settle): Promise<void> {
    return this.advanceToSettled(this.#now + ms, settleFn);
  }

  /** The number of timers still pending (for tests). */
  pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }
}
