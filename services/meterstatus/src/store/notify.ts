// Watchers on any replica learn of a model's meter-status changes through Postgres LISTEN/NOTIFY: writers
// pg_notify the model's channel in the writing transaction (delivered on commit); a watcher then re-reads.
import type { Sql } from "postgres";
import { modelChannel } from "./events";

interface Channel {
  listeners: Set<(unit: string) => void>;
  ready: Promise<{ unlisten(): Promise<void> }>;
}

/** One LISTEN per model channel per process, shared by every watcher of that model. */
export class ModelNotifier {
  readonly #channels = new Map<string, Channel>();
  constructor(private readonly sql: Sql) {}

  /**
   * Calls `onChange(unit)` after every committed change of the model (`unit` "" = every unit) until the
   * returned function is called. Resolves once the LISTEN is in place, so a read made after it misses nothing.
   */
  async subscribe(modelUuid: string, onChange: (unit: string) => void): Promise<() => Promise<void>> {
    const name = modelChannel(modelUuid);
    let channel = this.#channels.get(name);
    if (!channel) {
      const listeners = new Set<(unit: string) => void>();
      const ready = this.sql.listen(name, (payload) => {
        for (const l of listeners) l(payload);
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

  /** Resolves true when woken, false once any of the signals aborts. */
  async wait(...signals: AbortSignal[]): Promise<boolean> {
    if (signals.some((s) => s.aborted)) return false;
    if (!this.#pending) {
      let onAbort = (): void => undefined;
      await new Promise<void>((resolve) => {
        this.#resolve = resolve;
        onAbort = () => resolve();
        for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
      });
      for (const s of signals) s.removeEventListener("abort", onAbort);
      this.#resolve = undefined;
    }
    if (signals.some((s) => s.aborted)) return false;
    this.#pending = false;
    return true;
  }
}
