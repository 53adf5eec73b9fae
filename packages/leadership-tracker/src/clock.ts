// The production clock: the process's wall clock and timers.
import type { Clock } from "./types";

/** Wall-clock time and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (delayMs, callback) => {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
};
