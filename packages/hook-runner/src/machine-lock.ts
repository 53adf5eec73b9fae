import { randomBytes } from "node:crypto";
import { link, open, readFile, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { HookError } from "./errors";
import type { HookLock, LockHolder, LockRelease, LockSpec } from "./types";

/** File name of the machine lock inside the agent's data dir. */
export const MACHINE_LOCK_FILE = "machine-lock";

/** Options of {@link MachineLock}. */
export interface MachineLockOptions {
  /** The agent's data dir; the lock file is `<dataDir>/machine-lock`. */
  dataDir: string;
  /** How often a waiter retries while another process holds the lock; 50 ms by default. */
  pollIntervalMs?: number;
  /** A stale-lock breaker file older than this was left by a dead breaker; 10 s by default. */
  breakerStaleMs?: number;
  /** Liveness probe for a holder's pid; injectable for tests. */
  isProcessAlive?: (pid: number) => boolean;
}

interface Waiter {
  spec: LockSpec;
  resolve(release: LockRelease): void;
  reject(err: Error): void;
}

interface Queue {
  waiters: Waiter[];
  held: boolean;
  pumping: boolean;
  wake: (() => void) | undefined;
}

// Keyed by lock path so every MachineLock on the same file in this process shares one FIFO queue.
const queues = new Map<string, Queue>();
// Tokens this process holds now: a lock file with our pid but an unknown token is left by an earlier
// incarnation of this process (pid reuse after an agent restart in a container) and is stale.
const heldTokens = new Set<string>();

/**
 * The machine-wide hook lock: an exclusive lock file in the agent's data dir holding the owner's pid,
 * created atomically (hard link of a complete temporary file) so it also excludes other processes, with
 * stale-lock recovery when the owner died, plus FIFO queueing of waiters within this process.
 */
export class MachineLock implements HookLock {
  /** Absolute path of the lock file. */
  readonly path: string;
  private readonly pollIntervalMs: number;
  private readonly breakerStaleMs: number;
  private readonly isProcessAlive: (pid: number) => boolean;

  constructor(options: MachineLockOptions) {
    this.path = resolve(join(options.dataDir, MACHINE_LOCK_FILE));
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.breakerStaleMs = options.breakerStaleMs ?? 10_000;
    this.isProcessAlive = options.isProcessAlive ?? processAlive;
  }

  /** Waits for the lock, behind every earlier waiter of this process; fails with `Cancelled` on abort. */
  acquire(spec: LockSpec): Promise<LockRelease> {
    const queue = this.queue();
    return new Promise<LockRelease>((resolvePromise, rejectPromise) => {
      const { signal } = spec;
      if (signal?.aborted) {
        rejectPromise(cancelled(spec));
        return;
      }
      const onAbort = () => {
        const i = queue.waiters.indexOf(waiter);
        if (i >= 0) queue.waiters.splice(i, 1);
        rejectPromise(cancelled(spec));
        queue.wake?.();
      };
      const waiter: Waiter = {
        spec,
        resolve: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolvePromise(release);
        },
        reject: (err) => {
          signal?.removeEventListener("abort", onAbort);
          rejectPromise(err);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      queue.waiters.push(waiter);
      void this.pump(queue);
    });
  }

  /** Runs `fn` while holding the lock and releases it afterwards, whatever `fn` does. */
  async withLock<T>(spec: LockSpec, fn: () => Promise<T>): Promise<T> {
    const held = await this.acquire(spec);
    try {
      return await fn();
    } finally {
      await held.release();
    }
  }

  /** The current holder as recorded in the lock file, or undefined when the lock is free. */
  async holder(): Promise<LockHolder | undefined> {
    return readHolder(this.path);
  }

  private queue(): Queue {
    let q = queues.get(this.path);
    if (!q) {
      q = { waiters: [], held: false, pumping: false, wake: undefined };
      queues.set(this.path, q);
    }
    return q;
  }

  private async pump(q: Queue): Promise<void> {
    if (q.pumping || q.held) return;
    q.pumping = true;
    try {
      while (!q.held && q.waiters.length > 0) {
        const w = q.waiters[0]!;
        let holder: LockHolder | undefined;
        try {
          holder = await this.tryTakeFile(w.spec);
        } catch (err) {
          if (q.waiters[0] === w) q.waiters.shift();
          w.reject(
            new HookError("LockFailed", `cannot acquire machine lock: ${(err as Error).message}`, {
              cause: err,
            }),
          );
          continue;
        }
        if (holder && q.waiters[0] !== w) {
          // The waiter was cancelled while the file was being taken.
          await this.removeIfOurs(holder.token);
          continue;
        }
        if (holder) {
          q.waiters.shift();
          q.held = true;
          heldTokens.add(holder.token);
          w.resolve(this.releaser(q, holder.token));
          break;
        }
        await this.pause(q);
      }
    } finally {
      q.pumping = false;
    }
  }

  private pause(q: Queue): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(() => {
        q.wake = undefined;
        done();
      }, this.pollIntervalMs);
      q.wake = () => {
        clearTimeout(timer);
        q.wake = undefined;
        done();
      };
    });
  }

  private releaser(q: Queue, token: string): LockRelease {
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await this.removeIfOurs(token);
        } finally {
          heldTokens.delete(token);
          q.held = false;
          void this.pump(q);
        }
      },
    };
  }

  /** Creates the lock file atomically; undefined when another live holder has it. */
  private async tryTakeFile(spec: LockSpec, breakAttempted = false): Promise<LockHolder | undefined> {
    const holder: LockHolder = {
      pid: process.pid,
      worker: spec.worker,
      comment: spec.comment ?? "",
      acquiredAt: new Date().toISOString(),
      token: randomBytes(12).toString("hex"),
    };
    if (await createExclusive(this.path, JSON.stringify(holder), holder.token)) return holder;
    if (!breakAttempted && (await this.breakStaleLock())) return this.tryTakeFile(spec, true);
    return undefined;
  }

  private isStale(holder: LockHolder | undefined): boolean {
    if (!holder) return false;
    if (holder.pid === process.pid) return !heldTokens.has(holder.token);
    return !this.isProcessAlive(holder.pid);
  }

  /** Removes a lock file whose owner is dead; true when it did. One breaker at a time, via a second lock file. */
  private async breakStaleLock(): Promise<boolean> {
    if (!this.isStale(await readHolder(this.path))) return false;
    const breaker = `${this.path}.break`;
    const token = randomBytes(12).toString("hex");
    if (!(await createExclusive(breaker, JSON.stringify({ pid: process.pid, token }), token))) {
      // A breaker that died mid-break leaves its file behind; it is only ever held for a moment.
      const age = await fileAgeMs(breaker);
      if (age !== undefined && age > this.breakerStaleMs) await unlinkQuietly(breaker);
      return false;
    }
    try {
      // Re-read under the breaker: another process may have broken and re-taken the lock meanwhile.
      const holder = await readHolder(this.path);
      if (!this.isStale(holder)) return false;
      await unlinkQuietly(this.path);
      return true;
    } finally {
      await unlinkQuietly(breaker);
    }
  }

  private async removeIfOurs(token: string): Promise<void> {
    const holder = await readHolder(this.path);
    if (holder?.token === token) await unlinkQuietly(this.path);
  }
}

async function createExclusive(path: string, content: string, token: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${token}.tmp`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await unlinkQuietly(tmp);
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed.pid !== "number" || typeof parsed.token !== "string") return undefined;
    return {
      pid: parsed.pid,
      token: parsed.token,
      worker: String(parsed.worker ?? ""),
      comment: String(parsed.comment ?? ""),
      acquiredAt: String(parsed.acquiredAt ?? ""),
    };
  } catch {
    // Unreadable content is never treated as stale: only a known dead pid is.
    return undefined;
  }
}

async function fileAgeMs(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

async function unlinkQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function cancelled(spec: LockSpec): HookError {
  return new HookError("Cancelled", `waiting for machine lock cancelled (worker ${spec.worker})`);
}
