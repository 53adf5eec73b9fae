import { randomUUID } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Clock } from "@concord/clock";
import { EventLogError } from "./errors";
import { decodeSegment, encodeHeader, encodeMessage } from "./segment";
import { subjectMatches, validateEventSubject } from "./subjects";
import type {
  AppendOptions,
  AppendResult,
  EventLog,
  LastPerSubject,
  LogInfo,
  LogMessage,
  SubscribeOptions,
  Subscription,
} from "./types";

/** Options of {@link openEmbeddedLog}. */
export interface EmbeddedLogOptions {
  /** Folder holding the log's segment file; created if missing. */
  dir: string;
  /** How long a msgId is remembered for de-duplication (default 10 minutes, as the JetStream stream). */
  duplicateWindowMs?: number;
  /** Time of messages and of the duplicate window (default: wall time); tests pass `@concord/clock`'s ManualClock. */
  clock?: Pick<Clock, "now">;
}

/** Default duplicate window of both implementations. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

const SEGMENT = "events.log";
const LOCK = "LOCK";

interface Pending {
  message: LogMessage;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Opens the in-process event log kept in `dir` (what `npm start` uses without NATS). Appends are written to an
 * append-only segment file and fsynced before they are acknowledged; appends arriving while a write is in
 * flight are committed together. On open the file is replayed, and a torn last record (a crash during a
 * write) is truncated. One process may hold the folder at a time.
 */
export async function openEmbeddedLog(options: EmbeddedLogOptions): Promise<EventLog> {
  await mkdir(options.dir, { recursive: true });
  await takeLock(options.dir);
  try {
    const path = join(options.dir, SEGMENT);
    const file = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    const decoded = file === undefined ? undefined : decodeSegment(file);
    let header = decoded?.header;
    let handle: FileHandle;
    let size: number;
    if (header === undefined) {
      header = { logId: randomUUID(), baseSeq: 0 };
      const bytes = encodeHeader(header);
      handle = await open(path, "w");
      await handle.write(bytes, 0, bytes.length, 0);
      await handle.sync();
      size = bytes.length;
    } else {
      handle = await open(path, "r+");
      size = decoded?.validLength ?? 0;
      if (file !== undefined && size < file.length) {
        await handle.truncate(size);
        await handle.sync();
      }
    }
    return new EmbeddedLog(options, handle, size, header.logId, header.baseSeq, decoded?.messages ?? []);
  } catch (err) {
    await releaseLock(options.dir);
    throw err;
  }
}

/** Folders this process holds: the lock file cannot tell two opens by the same process apart. */
const held = new Set<string>();

async function takeLock(dir: string): Promise<void> {
  const key = resolve(dir);
  if (held.has(key)) throw new EventLogError("NotValid", `event log ${dir} is already open in this process`);
  const path = join(dir, LOCK);
  const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
  if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
    throw new EventLogError("NotValid", `event log ${dir} is held by process ${holder}`);
  }
  await writeFile(path, String(process.pid));
  held.add(key);
}

async function releaseLock(dir: string): Promise<void> {
  held.delete(resolve(dir));
  await rm(join(dir, LOCK), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

class EmbeddedLog implements EventLog {
  /** Sequences are handed out at the call, and a failed write fails every later append (see `flush`). */
  readonly ordersPipelinedAppends = true;
  private readonly messages: LogMessage[] = [];
  private readonly last = new Map<string, LogMessage>();
  /** msgId → sequence and time of the message first stored with it, oldest first. */
  private readonly dedup = new Map<string, { seq: number; time: number; durable: Promise<void> }>();
  private readonly waiters = new Set<() => void>();
  private readonly subscriptions = new Set<EmbeddedSubscription>();
  private readonly window: number;
  private readonly now: () => number;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private assignedSeq: number;
  private lastSeq: number;
  private failure: Error | undefined;
  private closed = false;

  constructor(
    private readonly options: EmbeddedLogOptions,
    private readonly handle: FileHandle,
    private size: number,
    private readonly logId: string,
    baseSeq: number,
    stored: { seq: number; time: number; subject: string; msgId?: string; data: Uint8Array }[],
  ) {
    this.window = options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
    this.now = options.clock ? () => (options.clock as Pick<Clock, "now">).now() : Date.now;
    this.lastSeq = baseSeq;
    for (const s of stored) {
      const message: LogMessage = { seq: s.seq, subject: s.subject, data: s.data, time: new Date(s.time) };
      if (s.msgId !== undefined) message.msgId = s.msgId;
      this.remember(message);
    }
    this.assignedSeq = this.lastSeq;
    this.pruneDedup();
  }

  async append(subject: string, data: Uint8Array, opts: AppendOptions = {}): Promise<AppendResult> {
    this.checkOpen();
    validateEventSubject(subject);
    this.pruneDedup();
    if (opts.msgId !== undefined) {
      const seen = this.dedup.get(opts.msgId);
      if (seen !== undefined) {
        await seen.durable;
        return { seq: seen.seq, duplicate: true };
      }
    }
    const time = this.now();
    const message: LogMessage = {
      seq: ++this.assignedSeq,
      subject,
      data: new Uint8Array(data),
      time: new Date(time),
    };
    if (opts.msgId !== undefined) message.msgId = opts.msgId;
    const durable = new Promise<void>((resolve, reject) => this.queue.push({ message, resolve, reject }));
    if (opts.msgId !== undefined) this.dedup.set(opts.msgId, { seq: message.seq, time, durable });
    this.flushing ??= this.flush();
    await durable;
    return { seq: message.seq, duplicate: false };
  }

  async read(fromSeq: number, limit: number): Promise<LogMessage[]> {
    this.checkOpen();
    const start = this.indexOf(fromSeq);
    return this.messages.slice(start, start + Math.max(0, limit));
  }

  subscribe(fromSeq: number, opts: SubscribeOptions = {}): Subscription {
    this.checkOpen();
    const sub = new EmbeddedSubscription(this, fromSeq, opts.filterSubject, () =>
      this.subscriptions.delete(sub),
    );
    this.subscriptions.add(sub);
    return sub;
  }

  async lastPerSubject(filterSubject?: string): Promise<LastPerSubject> {
    this.checkOpen();
    const messages = [...this.last.values()]
      .filter((m) => filterSubject === undefined || subjectMatches(filterSubject, m.subject))
      .sort((a, b) => a.seq - b.seq);
    return { messages, lastSeq: this.lastSeq };
  }

  async info(): Promise<LogInfo> {
    this.checkOpen();
    return {
      firstSeq: this.messages[0]?.seq ?? this.lastSeq + 1,
      lastSeq: this.lastSeq,
      messages: this.messages.length,
      logId: this.logId,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    for (const sub of [...this.subscriptions]) await sub.stop();
    this.wake();
    await this.handle.close();
    await releaseLock(this.options.dir);
  }

  /** Durable messages from `fromSeq` on, for subscriptions; throws when they are gone or the log closed. */
  messagesFrom(fromSeq: number, max: number): LogMessage[] {
    this.checkOpen();
    const first = this.messages[0]?.seq ?? this.lastSeq + 1;
    if (fromSeq < first && fromSeq <= this.lastSeq) {
      throw new EventLogError("OutOfRange", `messages from ${fromSeq} are no longer in the log`, {
        firstSeq: first,
      });
    }
    const start = this.indexOf(fromSeq);
    return this.messages.slice(start, start + max);
  }

  /** Throws `OutOfRange` when the log has not reached `fromSeq - 1` (a position from a log that was reset). */
  checkReached(fromSeq: number): void {
    if (fromSeq > this.lastSeq + 1) {
      throw new EventLogError(
        "OutOfRange",
        `cannot subscribe from ${fromSeq}: the log's last is ${this.lastSeq}`,
        {
          firstSeq: this.messages[0]?.seq ?? this.lastSeq + 1,
        },
      );
    }
  }

  /** Resolves at the next durable append, or when the log closes. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  wake(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        if (this.failure) throw this.failure;
        const records = batch.map((p) =>
          encodeMessage({
            seq: p.message.seq,
            time: p.message.time.getTime(),
            subject: p.message.subject,
            data: p.message.data,
            ...(p.message.msgId === undefined ? {} : { msgId: p.message.msgId }),
          }),
        );
        const bytes = Buffer.concat(records);
        await this.handle.write(bytes, 0, bytes.length, this.size);
        await this.handle.datasync();
        this.size += bytes.length;
        for (const p of batch) this.remember(p.message);
        for (const p of batch) p.resolve();
        this.wake();
      } catch (cause) {
        // Sequences were handed out for a batch that may be partly on disk: refuse further appends rather
        // than risk a gap or a reused sequence. Re-opening replays what is intact.
        this.failure ??= new EventLogError("EventLogUnavailable", "event log write failed; re-open the log", {
          cause,
        });
        for (const p of batch) p.reject(this.failure);
      }
    }
    this.flushing = undefined;
  }

  private remember(message: LogMessage): void {
    this.messages.push(message);
    this.last.set(message.subject, message);
    this.lastSeq = message.seq;
    if (message.msgId !== undefined && !this.dedup.has(message.msgId)) {
      this.dedup.set(message.msgId, {
        seq: message.seq,
        time: message.time.getTime(),
        durable: Promise.resolve(),
      });
    }
  }

  private pruneDedup(): void {
    const oldest = this.now() - this.window;
    for (const [id, entry] of this.dedup) {
      if (entry.time >= oldest) break;
      this.dedup.delete(id);
    }
  }

  /** Index of the first retained message with `seq >= fromSeq`. */
  private indexOf(fromSeq: number): number {
    let lo = 0;
    let hi = this.messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.messages[mid] as LogMessage).seq < fromSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private checkOpen(): void {
    if (this.closed) throw new EventLogError("EventLogClosed", "event log is closed");
  }
}

class EmbeddedSubscription implements Subscription {
  private stopped = false;
  private iterating = false;

  constructor(
    private readonly log: EmbeddedLog,
    private next: number,
    private readonly filter: string | undefined,
    private readonly onStop: () => void,
  ) {}

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop();
    this.log.wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LogMessage> {
    if (this.iterating) throw new EventLogError("NotValid", "a subscription can be iterated once");
    this.iterating = true;
    try {
      this.log.checkReached(this.next);
      while (!this.stopped) {
        const batch = this.log.messagesFrom(this.next, 256);
        if (batch.length === 0) {
          // Registered in the same tick as the read, so no append can slip in between.
          await this.log.changed();
          continue;
        }
        for (const m of batch) {
          if (this.stopped) return;
          this.next = m.seq + 1;
          if (this.filter === undefined || subjectMatches(this.filter, m.subject)) yield m;
        }
      }
    } finally {
      await this.stop();
    }
  }
}
