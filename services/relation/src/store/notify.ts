// Watchers on any replica learn of a model's changes through Postgres LISTEN/NOTIFY: writers pg_notify the
// model's channel in the writing transaction (delivered on commit); a watcher re-reads and diffs.
import type { Sql } from "postgres";
import { modelChannel } from "./events";

interface Channel {
  listeners: Set<() => void>;
  ready: Promise<{ unlisten(): Promise<void> }>;
}

/** One LISTEN per model channel per process, shared by every watcher of that model. */
export class ModelNotifier {
  readonly #channels = new Map<string, Channel>();
  constructor(private readonly sql: Sql) {}

  /**
   * Calls `onChange` after every committed change of the model until the returned function is called. Resolves
   * once the LISTEN is in place, so a read made after it cannot miss a later change.
   */
  async subscribe(modelUuid: string, onChange: () => void): Promise<() => Promise<void>> {
    const name = modelChannel(modelUuid);
    let channel = this.#channels.get(name);
    if (!channel) {
      const listeners = new Set<() => void>();
      const ready = this.sql.listen(name, () => {
        for (const l of listeners) l();
      });
      channel = { listeners, ready };
      this.#channels.set(name, channel);
    }
    const ch = channel;
    ch.listeners.add(onChange);
    try {
      await ch.ready;
    } catch (err) {
      ch.listeners.delete(onChange);
      if (this.#channels.get(name) === ch) this.#channels.delete(name);
      throw err;
    }
    return async () => {
      ch.listeners.delete(onChange);
      if (ch.listeners.size === 0 && this.#channels.get(name) === ch) {
        this.#channels.delete(name);
        await (await ch.ready).unlisten();
      }
    };
  }
}

/** Wakes a loop on demand: `wait()` resolves once `wake()` was called since the previous `wait()`. */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake = (): void => {
    this.#pending = true;
    this.#resolve?.();
  };

  /** Resolves true when woken, false when the signal aborts. */
  async wait(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (!this.#pending) {
      await new Promise<void>((resolve) => {
        this.#resolve = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
      this.#resolve = undefined;
    }
    if (signal.aborted) return false;
    this.#pending = false;
    return true;
  }
}
