import type { ChangeEvent } from "@concord/proto/events/v1/events";
import type { TransactionSql } from "postgres";

/** One message of the event log. */
export interface LogMessage {
  /** The log's sequence number: 1 for the first message ever appended, strictly increasing. */
  seq: number;
  subject: string;
  data: Uint8Array;
  /** The de-duplication id the message was appended with (JetStream `Nats-Msg-Id`). */
  msgId?: string;
  /** When the log stored the message. */
  time: Date;
}

/** Options of {@link EventLog.append}. */
export interface AppendOptions {
  /** De-duplication id: a second append with the same id within the duplicate window stores nothing. */
  msgId?: string;
}

/** What {@link EventLog.append} acknowledges. */
export interface AppendResult {
  /** The message's sequence; for a duplicate, the sequence of the message first stored with that id. */
  seq: number;
  duplicate: boolean;
}

/** Options of {@link EventLog.subscribe}. */
export interface SubscribeOptions {
  /** NATS subject filter (`*` matches one token, a trailing `>` the rest); default: every subject. */
  filterSubject?: string;
  /**
   * Called when the subscription lost the log (NATS connection, deleted consumer) and is resuming where it
   * stopped. The subscription keeps going; this is for logs and metrics (the multiwatcher's resume count).
   */
  onInterrupted?: (err: Error) => void;
}

/**
 * A subscription: every message with `seq >= fromSeq` in order, then live messages, until `stop()`. Iterate
 * it once. The iterator throws an {@link EventLogError} of kind `OutOfRange` when the messages it must
 * deliver next are no longer in the log (retention dropped them, or the log was reset).
 */
export interface Subscription extends AsyncIterable<LogMessage> {
  /** Ends the iteration; idempotent. */
  stop(): Promise<void>;
}

/** The current state of the log: last message of each subject, and the position it reflects. */
export interface LastPerSubject {
  /** The last message of every subject matching the filter, in sequence order. */
  messages: LogMessage[];
  /** Every message up to this sequence is reflected in `messages` (the snapshot's S, multiwatcher §2.3). */
  lastSeq: number;
}

/** Position and identity of the log. */
export interface LogInfo {
  /** Sequence of the oldest retained message; `lastSeq + 1` when the log holds none. */
  firstSeq: number;
  /** Sequence of the newest message ever appended; 0 for a new log. */
  lastSeq: number;
  /** Number of retained messages. */
  messages: number;
  /**
   * Identity of this log's history: changes when the log is deleted and re-created, so sequences of the old
   * log can be told apart (multiwatcher §11.1).
   */
  logId: string;
}

/**
 * An ordered, durable log of change events, one subject per entity. Implemented by NATS JetStream and by an
 * embedded file-backed log with the same contract.
 */
export interface EventLog {
  /** Appends one message once it is durable; fails with `EventLogUnavailable` when the log cannot be reached. */
  append(subject: string, data: Uint8Array, opts?: AppendOptions): Promise<AppendResult>;
  /** Up to `limit` messages with `seq >= fromSeq`, in order (fewer when the log holds fewer). */
  read(fromSeq: number, limit: number): Promise<LogMessage[]>;
  /** Every message with `seq >= fromSeq`, in order, then live ones. */
  subscribe(fromSeq: number, opts?: SubscribeOptions): Subscription;
  /** The last message of each subject matching `filterSubject` (default: all), each with its sequence. */
  lastPerSubject(filterSubject?: string): Promise<LastPerSubject>;
  info(): Promise<LogInfo>;
  /** Stops every subscription and releases the log. */
  close(): Promise<void>;
  /**
   * True when appends issued without awaiting each other are stored in call order and a failed append is never
   * followed by a stored later one; the outbox relay then pipelines its batches. JetStream keeps one
   * connection's order but cannot promise the second part: a message dropped mid-batch (a stream leader change,
   * a route that fails) while later ones are stored would be stored after them when retried.
   */
  readonly ordersPipelinedAppends?: boolean;
}

/** The logging calls the event kit makes; a pino logger satisfies it. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of {@link startRelay}. */
export interface RelayOptions {
  /** Pool of the service's database. */
  sql: import("postgres").Sql;
  /** The service's Postgres schema, whose `outbox` table the relay publishes. */
  schema: string;
  log: EventLog;
  logger?: Logger;
  /** Rows read per batch (default 100). */
  batchSize?: number;
  /** Poll interval when no notification arrives, and lock-retry interval for standby relays (default 1000 ms). */
  pollMs?: number;
  /** Longest back-off while the log is unavailable (default 5000 ms). */
  maxBackoffMs?: number;
}

/** A running outbox relay. */
export interface Relay {
  /** Stops publishing and releases the relay lock; a batch in flight is left for the next relay. */
  stop(): Promise<void>;
  /** Resolves once this relay has found the outbox empty, after the call. */
  drained(): Promise<void>;
}

/** Options of {@link startConsumer}. */
export interface ConsumerOptions {
  log: EventLog;
  /** Pool of the consuming service's database. */
  sql: import("postgres").Sql;
  /** The consuming service's Postgres schema, holding its `consumer_offsets` table. */
  schema: string;
  /** The consumer's durable name: its row in `consumer_offsets`. */
  name: string;
  /** NATS subject filter passed to the log (e.g. `concord.events.*.unit.>`). */
  filterSubject?: string;
  /** Further selection by subject; events it rejects are skipped without calling `handle`. */
  filter?: (subject: string) => boolean;
  /** Applies one event; runs in the transaction that also records the consumer's new position. */
  handle: (tx: TransactionSql, event: ChangeEvent, seq: number) => Promise<void>;
  logger?: Logger;
  /** Longest back-off after a failed handler (default 5000 ms). */
  maxBackoffMs?: number;
}

/** A running consumer. */
export interface Consumer {
  /** Sequence of the last event handled or skipped. */
  position(): number;
  /** Resolves once the consumer's position has reached `seq`. */
  reached(seq: number): Promise<void>;
  stop(): Promise<void>;
}
