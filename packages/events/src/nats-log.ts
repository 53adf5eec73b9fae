import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { DEFAULT_DUPLICATE_WINDOW_MS } from "./embedded-log";
import { EventLogError } from "./errors";
import { ALL_EVENTS, validateEventSubject, validateSubject } from "./subjects";
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

/** JetStream's error code for a stream created twice (missing from the client's code table). */
const STREAM_NAME_IN_USE = 10058;

/** Default name of the JetStream stream holding change events. */
export const DEFAULT_STREAM = "CONCORD_EVENTS";

/** Options of {@link openNatsLog}. */
export interface NatsLogOptions {
  /** NATS server URL(s), comma-separated. */
  url: string;
  /** Stream name (default `CONCORD_EVENTS`); tests use a unique one each. */
  stream?: string;
  /**
   * A token prefixed to every subject on the server and stripped on the way back, so that several logs can
   * share one NATS server (JetStream streams may not capture overlapping subjects). Tests use a unique one.
   */
  namespace?: string;
  /** JetStream duplicate window (default 10 minutes): must exceed the longest relay outage. */
  duplicateWindowMs?: number;
  /** Age after which messages are dropped (default: never; dropping also drops entities' current state). */
  maxAgeMs?: number;
  /** History kept per subject (default: all). The last message of each subject is always kept. */
  maxMsgsPerSubject?: number;
  /** Client name shown by the server. */
  name?: string;
  /** Timeout of one JetStream request (default 5000 ms). */
  timeoutMs?: number;
}

/**
 * Connects to NATS and opens (creating or updating, idempotently) the change-event stream. The connection
 * reconnects forever, so the log survives NATS restarts; calls made while NATS is away fail with
 * `EventLogUnavailable` and subscriptions resume where they stopped.
 */
export async function openNatsLog(options: NatsLogOptions): Promise<EventLog> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url.split(","),
      name: options.name ?? "concord-events",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: options.timeoutMs ?? 5000,
    });
  } catch (cause) {
    throw new EventLogError("EventLogUnavailable", `cannot connect to NATS at ${options.url}`, { cause });
  }
  try {
    const timeout = options.timeoutMs ?? 5000;
    const jsm = await jetstreamManager(nc, { timeout });
    const stream = options.stream ?? DEFAULT_STREAM;
    const ns = new Namespace(options.namespace);
    await ensureStream(jsm, {
      name: stream,
      subjects: [ns.toServer(ALL_EVENTS)],
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
      max_age: nanos(options.maxAgeMs ?? 0),
      max_msgs_per_subject: options.maxMsgsPerSubject ?? -1,
    });
    return new NatsLog(nc, jsm, jetstream(nc, { timeout }), stream, ns);
  } catch (err) {
    await nc.close();
    throw unavailable(err, "cannot open the event stream");
  }
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }) {
  try {
    const current = await jsm.streams.info(config.name);
    const c = current.config;
    if (
      c.duplicate_window !== config.duplicate_window ||
      c.max_age !== config.max_age ||
      c.max_msgs_per_subject !== config.max_msgs_per_subject ||
      JSON.stringify(c.subjects) !== JSON.stringify(config.subjects)
    ) {
      await jsm.streams.update(config.name, config);
    }
  } catch (err) {
    if (!isCode(err, JetStreamApiCodes.StreamNotFound)) throw err;
    try {
      await jsm.streams.add(config);
    } catch (addErr) {
      // A concurrent starter created it first; its config is ours.
      if (!isCode(addErr, STREAM_NAME_IN_USE)) throw addErr;
    }
  }
}

function isCode(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

function unavailable(err: unknown, message: string): EventLogError {
  if (err instanceof EventLogError) return err;
  const detail = err instanceof Error ? `: ${err.message}` : "";
  return new EventLogError("EventLogUnavailable", `${message}${detail}`, { cause: err });
}

/** Maps the log's subjects to the server's, under an optional namespace token. */
class Namespace {
  private readonly prefix: string;

  constructor(namespace?: string) {
    if (namespace !== undefined) validateSubject(namespace);
    this.prefix = namespace === undefined ? "" : `${namespace}.`;
  }

  toServer(subject: string): string {
    return this.prefix + subject;
  }

  toMessage(m: JsMsg): LogMessage {
    const message: LogMessage = {
      seq: m.seq,
      subject: m.subject.slice(this.prefix.length),
      data: m.data,
      time: m.time,
    };
    const msgId = m.headers?.get("Nats-Msg-Id");
    if (msgId) message.msgId = msgId;
    return message;
  }
}

class NatsLog implements EventLog {
  private readonly subscriptions = new Set<NatsSubscription>();
  private closed = false;

  constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly js: JetStreamClient,
    readonly stream: string,
    readonly ns: Namespace,
  ) {}

  async append(subject: string, data: Uint8Array, opts: AppendOptions = {}): Promise<AppendResult> {
    this.checkOpen();
    validateEventSubject(subject);
    try {
      const ack = await this.js.publish(
        this.ns.toServer(subject),
        data,
        opts.msgId === undefined ? {} : { msgID: opts.msgId },
      );
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw unavailable(err, `cannot append to ${this.stream}`);
    }
  }

  async read(fromSeq: number, limit: number): Promise<LogMessage[]> {
    this.checkOpen();
    if (limit <= 0) return [];
    try {
      const consumer = await this.js.consumers.get(this.stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: Math.max(1, fromSeq),
        inactive_threshold: 30_000,
      });
      return await this.collect(consumer, limit);
    } catch (err) {
      throw unavailable(err, `cannot read ${this.stream}`);
    }
  }

  subscribe(fromSeq: number, opts: SubscribeOptions = {}): Subscription {
    this.checkOpen();
    const sub = new NatsSubscription(this, fromSeq, opts, () => this.subscriptions.delete(sub));
    this.subscriptions.add(sub);
    return sub;
  }

  async lastPerSubject(filterSubject = ALL_EVENTS): Promise<LastPerSubject> {
    this.checkOpen();
    try {
      const before = await this.info();
      const consumer = await this.js.consumers.get(this.stream, {
        deliver_policy: DeliverPolicy.LastPerSubject,
        filter_subjects: this.ns.toServer(filterSubject),
        inactive_threshold: 30_000,
      });
      // Messages appended after the consumer was created may follow; keep the newest of each subject.
      const last = new Map<string, LogMessage>();
      for (const m of await this.collect(consumer, Number.POSITIVE_INFINITY)) last.set(m.subject, m);
      const messages = [...last.values()].sort((a, b) => a.seq - b.seq);
      return { messages, lastSeq: Math.max(before.lastSeq, messages.at(-1)?.seq ?? 0) };
    } catch (err) {
      throw unavailable(err, `cannot read ${this.stream}`);
    }
  }

  /** Fetches from a fresh ordered consumer until it has nothing pending or `limit` messages were read. */
  private async collect(
    consumer: Awaited<ReturnType<JetStreamClient["consumers"]["get"]>>,
    limit: number,
  ): Promise<LogMessage[]> {
    const out: LogMessage[] = [];
    try {
      let pending = (await consumer.info(true)).num_pending;
      while (pending > 0 && out.length < limit) {
        const batch = await consumer.fetch({
          max_messages: Math.min(limit - out.length, 256),
          expires: 5000,
        });
        for await (const m of batch) {
          out.push(this.ns.toMessage(m));
          pending = m.info.pending;
          if (pending === 0 || out.length >= limit) {
            batch.stop();
            break;
          }
        }
      }
      return out;
    } finally {
      consumer.delete().catch(() => {});
    }
  }

  async info(): Promise<LogInfo> {
    this.checkOpen();
    try {
      const si = await this.jsm.streams.info(this.stream);
      const lastSeq = si.state.last_seq;
      return {
        firstSeq: si.state.messages === 0 ? lastSeq + 1 : si.state.first_seq,
        lastSeq,
        messages: si.state.messages,
        logId: `${this.stream}@${si.created}`,
      };
    } catch (err) {
      throw unavailable(err, `cannot read the state of ${this.stream}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const sub of [...this.subscriptions]) await sub.stop();
    await this.nc.close();
  }

  isClosed(): boolean {
    return this.closed;
  }

  private checkOpen(): void {
    if (this.closed) throw new EventLogError("EventLogClosed", "event log is closed");
  }
}

/**
 * A subscription over an ordered consumer. The client library already recreates the consumer after missed
 * heartbeats; this loop also recreates it when the library gives up, and checks after every interruption that
 * the stream still holds the next message (not purged, not reset).
 */
class NatsSubscription implements Subscription {
  private stopped = false;
  private iterating = false;
  private current: { stop(err?: Error): void } | undefined;
  private wakeBackoff: (() => void) | undefined;
  private received = false;
  /** Set by the status watcher when a recreated consumer would skip dropped messages. */
  private outOfRange: EventLogError | undefined;
  /** Open while the stream's range is being checked after an interruption. */
  private gate: Promise<void> | undefined;

  constructor(
    private readonly log: NatsLog,
    private next: number,
    private readonly opts: SubscribeOptions,
    private readonly onStop: () => void,
  ) {}

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop();
    this.current?.stop();
    this.wakeBackoff?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LogMessage> {
    if (this.iterating) throw new EventLogError("NotValid", "a subscription can be iterated once");
    this.iterating = true;
    let attempt = 0;
    try {
      while (!this.stopped) {
        let failure: Error | undefined;
        try {
          await this.checkRange();
          const consumer = await this.log.js.consumers.get(this.log.stream, {
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: Math.max(1, this.next),
            filter_subjects: this.log.ns.toServer(this.opts.filterSubject ?? ALL_EVENTS),
          });
          const messages = await consumer.consume({ max_messages: 256, expires: 5000 });
          this.current = messages;
          if (this.stopped) messages.stop();
          void this.watch(messages);
          for await (const m of messages) {
            if (this.gate !== undefined) await this.gate;
            if (this.outOfRange !== undefined || this.stopped) break;
            attempt = 0;
            this.received = true;
            this.next = m.seq + 1;
            yield this.log.ns.toMessage(m);
            if (this.stopped) break;
          }
          messages.stop();
          failure = this.outOfRange;
          if (failure === undefined && !this.stopped) failure = new Error("consumer ended");
        } catch (err) {
          if (err instanceof EventLogError && err.kind === "OutOfRange") throw err;
          failure = err as Error;
        }
        if (this.stopped || this.log.isClosed()) return;
        if (failure instanceof EventLogError && failure.kind === "OutOfRange") throw failure;
        this.opts.onInterrupted?.(unavailable(failure, "event subscription interrupted"));
        await this.backoff(attempt++);
      }
    } finally {
      await this.stop();
    }
  }

  /**
   * Watches the consumer's notifications. After an interruption the library recreates the consumer from its
   * cursor, which would silently skip messages the stream dropped meanwhile; so messages wait behind a gate
   * until the stream is reachable again and still holds what comes next.
   */
  private async watch(
    messages: Awaited<ReturnType<Awaited<ReturnType<JetStreamClient["consumers"]["get"]>>["consume"]>>,
  ) {
    for await (const s of messages.status()) {
      if (s.type !== "heartbeats_missed" && s.type !== "reset" && s.type !== "consumer_not_found") continue;
      if (this.gate !== undefined) continue;
      this.opts.onInterrupted?.(
        new EventLogError("EventLogUnavailable", `event subscription interrupted (${s.type})`),
      );
      this.gate = this.verifyRange(messages).finally(() => {
        this.gate = undefined;
      });
    }
  }

  private async verifyRange(messages: { stop(): void }): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.checkRange();
        return;
      } catch (err) {
        if (err instanceof EventLogError && err.kind === "OutOfRange") {
          this.outOfRange = err;
          messages.stop();
          return;
        }
        await this.backoff(attempt);
      }
    }
  }

  /** Throws `OutOfRange` if the messages from `next` on were dropped, or if the stream is behind `next`. */
  private async checkRange(): Promise<void> {
    const info = await this.log.info();
    if (this.next < info.firstSeq && this.next <= info.lastSeq) {
      throw new EventLogError("OutOfRange", `messages from ${this.next} are no longer in the log`, {
        firstSeq: info.firstSeq,
      });
    }
    if (this.next > info.lastSeq + 1) {
      const why = this.received ? "the log was reset" : "the log has not reached it";
      throw new EventLogError(
        "OutOfRange",
        `cannot subscribe from ${this.next}: ${why} (last ${info.lastSeq})`,
        {
          firstSeq: info.firstSeq,
        },
      );
    }
  }

  private backoff(attempt: number): Promise<void> {
    const ms = Math.min(100 * 2 ** attempt, 5000);
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeBackoff = done;
    });
  }
}
