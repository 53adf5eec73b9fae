import type { ReservedSql } from "postgres";
import { isEventLogError } from "./errors";
import { lockKeys, outboxChannel } from "./outbox";
import type { Logger, Relay, RelayOptions } from "./types";

const silent: Logger = { info() {}, warn() {}, error() {} };

/**
 * Starts publishing `<schema>.outbox` to the event log. Only one relay per schema publishes at a time (a
 * session advisory lock on a reserved connection); others stand by and take over when it goes away. Rows are
 * published in id order with their msgId (a batch pipelined when the log keeps the order of appends it has
 * not acknowledged yet) and deleted once the log has acknowledged them, so a crash between
 * publish and delete re-publishes rows the log then drops as duplicates. Wakes on the writers' notifications,
 * with a poll as fallback; while the log is unavailable it retries with back-off, logging once per outage.
 */
export function startRelay(options: RelayOptions): Relay {
  const relay = new OutboxRelay(options);
  relay.done = relay.run();
  return relay;
}

class OutboxRelay implements Relay {
  done: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly maxBackoffMs: number;
  private readonly table: string;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private drainWaiters: (() => void)[] = [];
  private outage = false;

  constructor(private readonly options: RelayOptions) {
    this.logger = options.logger ?? silent;
    this.batchSize = options.batchSize ?? 100;
    this.pollMs = options.pollMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.table = `${options.schema}.outbox`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.done;
  }

  drained(): Promise<void> {
    const done = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.wake();
    return done;
  }

  async run(): Promise<void> {
    const { sql, schema } = this.options;
    let failures = 0;
    while (!this.stopped) {
      let conn: ReservedSql | undefined;
      let unlisten: (() => Promise<void>) | undefined;
      try {
        conn = await sql.reserve();
        if (!(await this.lead(conn))) break;
        const listening = await sql.listen(outboxChannel(schema), () => this.wake());
        unlisten = listening.unlisten;
        this.logger.info({ schema }, "outbox relay publishing");
        while (!this.stopped) {
          await this.publishAll(conn);
          failures = 0;
          await this.sleep(this.pollMs);
        }
      } catch (err) {
        if (this.stopped) break;
        this.logger.error({ err, schema }, "outbox relay failed; restarting");
        await this.sleep(Math.min(100 * 2 ** failures++, this.maxBackoffMs), true);
      } finally {
        await unlisten?.().catch(() => {});
        if (conn) {
          await conn`select pg_advisory_unlock_all()`.catch(() => {});
          conn.release();
        }
      }
    }
  }

  /** Waits for the relay lock; false when stopped first. */
  private async lead(conn: ReservedSql): Promise<boolean> {
    while (!this.stopped) {
      const [row] =
        await conn`select pg_try_advisory_lock(hashtext(${lockKeys.relay(this.options.schema)})) as locked`;
      if (row?.locked) return true;
      await this.sleep(this.pollMs);
    }
    return false;
  }

  /** Publishes batches until the outbox is empty (or the relay stops). */
  private async publishAll(conn: ReservedSql): Promise<void> {
    while (!this.stopped) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      const rows = await conn<{ id: string; subject: string; msg_id: string; payload: Buffer }[]>`
        select id, subject, msg_id, payload from ${conn(this.table)} order by id limit ${this.batchSize}`;
      if (rows.length === 0) {
        for (const resolve of waiters) resolve();
        return;
      }
      this.drainWaiters.unshift(...waiters);
      const published: string[] = [];
      const acked = this.options.log.ordersPipelinedAppends ? await this.publishPipelined(rows) : 0;
      for (const row of rows.slice(0, acked)) published.push(row.id);
      // One at a time from the first row not acknowledged: the retries and the outage handling.
      for (const row of rows.slice(acked)) {
        if (!(await this.publish(row))) break;
        published.push(row.id);
      }
      if (published.length > 0) await conn`delete from ${conn(this.table)} where id in ${conn(published)}`;
    }
  }

  /**
   * Appends every row without waiting for the previous acknowledgement (the log keeps call order); returns how
   * many rows from the first were acknowledged. The rest are retried in order, the log dropping as duplicates
   * those it stored without acknowledging.
   */
  private async publishPipelined(
    rows: { subject: string; msg_id: string; payload: Buffer }[],
  ): Promise<number> {
    const acks = await Promise.allSettled(
      rows.map((row) => this.options.log.append(row.subject, row.payload, { msgId: row.msg_id })),
    );
    const failed = acks.findIndex((a) => a.status === "rejected");
    return failed < 0 ? rows.length : failed;
  }

  /** Appends one row, retrying while the log is unavailable; false when stopped first. */
  private async publish(row: { subject: string; msg_id: string; payload: Buffer }): Promise<boolean> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        await this.options.log.append(row.subject, row.payload, { msgId: row.msg_id });
        if (this.outage) {
          this.outage = false;
          this.logger.info(
            { schema: this.options.schema },
            "event log available again; outbox relay resumed",
          );
        }
        return true;
      } catch (err) {
        if (!this.outage) {
          this.outage = true;
          const level = isEventLogError(err, "EventLogUnavailable") ? "warn" : "error";
          this.logger[level](
            { err, schema: this.options.schema },
            "cannot publish to the event log; retrying",
          );
        }
        await this.sleep(Math.min(100 * 2 ** attempt++, this.maxBackoffMs), true);
      }
    }
    return false;
  }

  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Sleeps up to `ms`; a notification, drained() or stop() ends it early, but only stop() ends a back-off. */
  private sleep(ms: number, backoff = false): Promise<void> {
    if (this.stopped || (!backoff && this.woken)) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        if (!backoff) this.woken = false;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wakeUp = () => {
        if (!backoff || this.stopped) finish();
      };
    });
  }
}
