// A clock for tests: time moves only when the test advances it, firing due timers in order and letting the
// promise chains they start settle before the next one fires.
import type { Clock, Timer } from "./types";

interface Pending {
  dueMs: number;
  seq: number;
  callback: () => void;
}

/** Lets every promise chain that needs no I/O run to completion. Not a sleep: no time passes. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A manually advanced clock; also usable as the lease manager's clock (same shape). */
export class ManualClock implements Clock {
  #nowMs: number;
  #seq = 0;
  #timers: Pending[] = [];

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  /** The current fake time in milliseconds. */
  now(): number {
    return this.#nowMs;
  }

  /** Schedules `callback` at now + delayMs (a negative delay counts as zero). */
  setTimer(delayMs: number, callback: () => void): Timer {
    const pending: Pending = { dueMs: this.#nowMs + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.#timers.push(pending);
    return {
      cancel: () => {
        this.#timers = this.#timers.filter((t) => t !== pending);
      },
    };
  }

  /** When the earliest pending timer is due, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    return this.#earliest()?.dueMs;
  }

  /** Number of timers not yet fired or cancelled. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.#nowMs + ms);
  }

  /** Moves time forward to `targetMs` (never backwards), firing every timer due by then in order. */
  async advanceTo(targetMs: number): Promise<void> {
    for (;;) {
      await settle();
      const next = this.#earliest();
      if (!next || next.dueMs > targetMs) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#nowMs = Math.max(this.#nowMs, next.dueMs);
      next.callback();
    }
    this.#nowMs = Math.max(this.#nowMs, targetMs);
    await settle();
  }

  #earliest(): Pending | undefined {
    let best: Pending | undefined;
    for (const t of this.#timers) {
      if (!best || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
