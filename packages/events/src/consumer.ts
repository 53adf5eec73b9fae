import { fromBinary } from "@bufbuild/protobuf";
import { type ChangeEvent, ChangeEventSchema } from "@concord/proto/events/v1/events";
import { isEventLogError } from "./errors";
import type { Consumer, ConsumerOptions, Logger, Subscription } from "./types";

const silent: Logger = { info() {}, warn() {}, error() {} };

/** Skipped events are recorded every this many, not one by one: replaying a few skips after a crash is free. */
const SKIP_SAVE_EVERY = 100;

/**
 * Starts a durable consumer of the event log for a service that reacts to other services' events. Each event's
 * effects and the consumer's new position (`<schema>.consumer_offsets`) commit in one transaction, and an event
 * at or below the recorded position is not handled again, so effects happen exactly once even across crashes
 * and with several replicas. A failing handler is retried with back-off: events are never skipped, except
 * undecodable ones (logged) and those `filter` rejects.
 */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const { sql, schema, name } = options;
  const table = sql(`${schema}.consumer_offsets`);
  await sql`insert into ${table} (name, seq) values (${name}, 0) on conflict (name) do nothing`;
  const [row] = await sql<{ seq: string }[]>`select seq from ${table} where name = ${name}`;
  const consumer = new DurableConsumer(options, Number(row?.seq ?? 0));
  consumer.done = consumer.run();
  return consumer;
}

class DurableConsumer implements Consumer {
  done: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private readonly maxBackoffMs: number;
  private stopped = false;
  private subscription: Subscription | undefined;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private saved: number;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly options: ConsumerOptions,
    private seq: number,
  ) {
    this.logger = options.logger ?? silent;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.saved = seq;
  }

  position(): number {
    return this.seq;
  }

  reached(seq: number): Promise<void> {
    if (this.seq >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.subscription?.stop();
    await this.done;
    await this.saveSkipped().catch(() => {});
  }

  async run(): Promise<void> {
    const { log, filterSubject, filter, name } = this.options;
    let attempt = 0;
    while (!this.stopped) {
      try {
        this.subscription = log.subscribe(this.seq + 1, filterSubject === undefined ? {} : { filterSubject });
        if (this.stopped) await this.subscription.stop();
        for await (const m of this.subscription) {
          attempt = 0;
          let event: ChangeEvent | undefined;
          if (filter === undefined || filter(m.subject)) {
            try {
              event = fromBinary(ChangeEventSchema, m.data);
            } catch (err) {
              this.logger.error(
                { err, consumer: name, seq: m.seq, subject: m.subject },
                "undecodable event skipped",
              );
            }
          }
          if (event === undefined) {
            this.advance(m.seq);
            if (this.seq - this.saved >= SKIP_SAVE_EVERY) await this.saveSkipped();
            continue;
          }
          if (!(await this.handle(event, m.seq))) return;
          this.saved = m.seq;
          this.advance(m.seq);
        }
      } catch (err) {
        if (this.stopped || isEventLogError(err, "EventLogClosed")) return;
        this.logger.error(
          { err, consumer: name, position: this.seq },
          "event consumer interrupted; resuming",
        );
        await this.sleep(Math.min(100 * 2 ** attempt++, this.maxBackoffMs));
      }
    }
  }

  /** Runs the handler and records the position in one transaction, retrying; false when stopped first. */
  private async handle(event: ChangeEvent, seq: number): Promise<boolean> {
    const { sql, schema, name, handle } = this.options;
    const table = sql(`${schema}.consumer_offsets`);
    let attempt = 0;
    while (!this.stopped) {
      try {
        await sql.begin(async (tx) => {
          // The row lock makes a second replica of this consumer wait, then see the event as done.
          const [row] = await tx<{ seq: string }[]>`select seq from ${table} where name = ${name} for update`;
          if (Number(row?.seq ?? 0) >= seq) return;
          await handle(tx, event, seq);
          await tx`update ${table} set seq = ${seq} where name = ${name}`;
        });
        return true;
      } catch (err) {
        this.logger.error(
          { err, consumer: name, seq, subject: `${event.kind} ${event.id}` },
          "event handler failed",
        );
        await this.sleep(Math.min(100 * 2 ** attempt++, this.maxBackoffMs));
      }
    }
    return false;
  }

  private async saveSkipped(): Promise<void> {
    if (this.seq <= this.saved) return;
    const { sql, schema, name } = this.options;
    const seq = this.seq;
    await sql`update ${sql(`${schema}.consumer_offsets`)} set seq = greatest(seq, ${seq}) where name = ${name}`;
    this.saved = seq;
  }

  private advance(seq: number): void {
    this.seq = seq;
    const due = this.waiters.filter((w) => w.seq <= seq);
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq > seq);
    for (const w of due) w.resolve();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wakeUp = finish;
    });
  }
}
