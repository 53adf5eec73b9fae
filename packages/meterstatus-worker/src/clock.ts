import type { Clock, Timer } from "./types";

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
};

interface ManualTimer {
  due: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to. Timers fire inside {@link ManualClock.advance}, in due-time order
 * (ties in the order they were set), with `now()` reading each timer's due time as it fires.
 * A timer set with a delay ≤ 0 fires on the next `advance`, `advance(0)` included.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  /** Starts at `startMs` (milliseconds since the Unix epoch). */
  constructor(startMs: number) {
    this.current = startMs;
  }

  /** Milliseconds since the Unix epoch. */
  now(): number {
    return this.current;
  }

  /** Registers a timer due `delayMs` from now. */
  setTimer(delayMs: number, fn: () => void): Timer {
    const timer: ManualTimer = { due: this.current + Math.max(0, delayMs), seq: this.seq++, fn };
    this.timers.push(timer);
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  /** Moves the clock forward by `ms`, firing every timer that comes due on the way. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError("a manual clock only moves forward");
    const target = this.current + ms;
    for (;;) {
      const next = this.timers
        .filter((t) => t.due <= target)
        .sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.due);
      next.fn();
    }
    this.current = target;
  }

  /** How many timers are armed (for tests). */
  pendingTimers(): number {
    return this.timers.length;
  }
}
