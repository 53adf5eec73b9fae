// The PostgreSQL LeaseStore (spec §6). Start and expiry are computed in SQL from one time source: the
// database's `now()` (the transaction's start, so never later than the call's start), or a test clock's time
// passed as a parameter. An unpinned lease past its expiry is absent in every statement; the sweep deletes it.
// Mutual exclusion rests on the primary key of `lease`; terms come from `lease_term`, which is never deleted.
import type { Sql, TransactionSql } from "@concord/db";
import { writeOutbox } from "@concord/events";
import type { PendingQuery, Row } from "postgres";
import { LeaseError } from "../domain/errors";
import {
  type ClaimResult,
  LEADERSHIP_NAMESPACE,
  type LeaseEntry,
  type LeaseKey,
  type LeaseStore,
  type PinEntry,
} from "../domain/types";
import { leaderEvent, SCHEMA } from "./events";

/** Configuration of a {@link PgLeaseStore}. */
export interface PgLeaseStoreOptions {
  sql: Sql;
  /**
   * Tests only: the time source that stands in for the database's clock (milliseconds since the epoch).
   * Production leaves it unset, and expiry follows the database's `now()`.
   */
  testClock?: { now(): number };
}

type Fragment = PendingQuery<Row[]>;
type Db = Sql | TransactionSql;

interface LeaseRow {
  namespace: string;
  model_uuid: string;
  name: string;
  holder: string;
  start_ms: number;
  expiry_ms: number;
  term: string;
}

// Transient conditions: retried by the manager (spec §6.1). Anything else is a bug or a broken database.
const TRANSIENT_SQLSTATES = new Set(["40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53300"]);
const TRANSIENT_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/** Maps a database failure to the lease error the manager understands. */
export function storeError(err: unknown, signal: AbortSignal | undefined): unknown {
  if (err instanceof LeaseError) return err;
  if (signal?.aborted) return new LeaseError("ErrAborted", undefined, { cause: err });
  const code = (err as { code?: unknown })?.code;
  if (
    typeof code === "string" &&
    (TRANSIENT_SQLSTATES.has(code) || code.startsWith("08") || TRANSIENT_NODE_CODES.has(code))
  ) {
    return new LeaseError("ErrTimeout", `lease operation timed out: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return err;
}

/** The lease store in schema `leadership`; safe for concurrent use by any number of service replicas. */
export class PgLeaseStore implements LeaseStore {
  readonly #sql: Sql;
  readonly #testClock: { now(): number } | undefined;

  constructor(options: PgLeaseStoreOptions) {
    this.#sql = options.sql;
    this.#testClock = options.testClock;
  }

  /** The store's "now" as SQL: the database's clock, or the test clock's time. */
  now(db: Db = this.#sql): Fragment {
    if (!this.#testClock) return db`now()`;
    return db`to_timestamp(${this.#testClock.now() / 1000}::float8)`;
  }

  async claimLease(
    key: LeaseKey,
    holder: string,
    durationMs: number,
    signal?: AbortSignal,
  ): Promise<ClaimResult> {
    return this.#run(signal, () =>
      this.#sql.begin(async (tx) => {
        const now = this.now(tx);
        // An expired, unpinned lease is absent: clear it so the insert below can take the key.
        await tx`delete from leadership.lease l where ${keyMatch(tx, key, "l")} and ${expired(tx, now, "l")}`;
        const [counter] = await tx<{ term: string }[]>`
          insert into leadership.lease_term (namespace, model_uuid, name, term)
          values (${key.namespace}, ${key.modelUUID}, ${key.lease}, 1)
          on conflict (namespace, model_uuid, name) do update set term = leadership.lease_term.term + 1
          returning term`;
        const term = Number(counter!.term);
        try {
          await tx`
            insert into leadership.lease (namespace, model_uuid, name, holder, start_at, expiry_at, term)
            values (${key.namespace}, ${key.modelUUID}, ${key.lease}, ${holder}, ${now},
                    ${now} + ${durationMs}::float8 * interval '1 millisecond', ${term})`;
        } catch (err) {
          if ((err as { code?: string }).code === "23505")
            throw new LeaseError("ErrHeld", undefined, { cause: err });
          throw err;
        }
        if (key.namespace === LEADERSHIP_NAMESPACE) {
          await writeOutbox(tx, SCHEMA, [leaderEvent(key.modelUUID, key.lease, holder, term)]);
        }
        return { term };
      }),
    );
  }

  async extendLease(
    key: LeaseKey,
    holder: string,
    durationMs: number,
    signal?: AbortSignal,
  ): Promise<ClaimResult> {
    return this.#run(signal, async () => {
      const sql = this.#sql;
      const now = this.now();
      const rows = await sql<{ term: string }[]>`
        update leadership.lease l
        set expiry_at = greatest(l.expiry_at, ${now} + ${durationMs}::float8 * interval '1 millisecond')
        where ${keyMatch(sql, key, "l")} and l.holder = ${holder} and not ${expired(sql, now, "l")}
        returning term`;
      if (rows.length === 0) throw new LeaseError("ErrInvalid");
      return { term: Number(rows[0]!.term) };
    });
  }

  /**
   * The renewal in one autocommitted statement: extend when `holder` holds the live lease, else report the live
   * lease's holder from the same snapshot. Only an acquisition (no live lease) takes a transaction, because it
   * draws a new term and writes the leader event with it.
   */
  async claimOrExtendLease(
    key: LeaseKey,
    holder: string,
    durationMs: number,
    signal?: AbortSignal,
  ): Promise<ClaimResult> {
    return this.#run(signal, async () => {
      const sql = this.#sql;
      const now = this.now();
      const [row] = await sql<{ term: string | null; holder: string | null }[]>`
        with extended as (
          update leadership.lease l
          set expiry_at = greatest(l.expiry_at, ${now} + ${durationMs}::float8 * interval '1 millisecond')
          where ${keyMatch(sql, key, "l")} and l.holder = ${holder} and not ${expired(sql, now, "l")}
          returning l.term)
        select (select term from extended) as term,
               (select l.holder from leadership.lease l
                where ${keyMatch(sql, key, "l")} and not ${expired(sql, now, "l")}) as holder`;
      if (row?.term != null) return { term: Number(row.term) };
      if (row?.holder == null) return this.claimLease(key, holder, durationMs, signal);
      // The snapshot showing the caller as holder while the update found nothing: a concurrent revoke or sweep.
      throw new LeaseError(row.holder === holder ? "ErrInvalid" : "ErrHeld");
    });
  }

  async revokeLease(key: LeaseKey, holder: string, signal?: AbortSignal): Promise<void> {
    await this.#run(signal, () =>
      this.#sql.begin(async (tx) => {
        const now = this.now(tx);
        const rows = await tx<{ term: string }[]>`
          delete from leadership.lease l
          where ${keyMatch(tx, key, "l")} and l.holder = ${holder} and not ${expired(tx, now, "l")}
          returning term`;
        if (rows.length === 0) throw new LeaseError("ErrInvalid");
        if (key.namespace === LEADERSHIP_NAMESPACE) {
          await writeOutbox(tx, SCHEMA, [leaderEvent(key.modelUUID, key.lease, "", Number(rows[0]!.term))]);
        }
      }),
    );
  }

  async leases(filter?: LeaseKey, signal?: AbortSignal): Promise<LeaseEntry[]> {
    return this.#run(signal, async () => {
      const sql = this.#sql;
      const where = filter ? sql`and ${keyMatch(sql, filter, "l")}` : sql``;
      return (await this.#select(sql, where)).map(toEntry);
    });
  }

  async leaseGroup(namespace: string, modelUUID: string, signal?: AbortSignal): Promise<LeaseEntry[]> {
    return this.#run(signal, async () => {
      const sql = this.#sql;
      const where = sql`and l.namespace = ${namespace} and l.model_uuid = ${modelUUID}`;
      return (await this.#select(sql, where)).map(toEntry);
    });
  }

  async pinLease(key: LeaseKey, entity: string, signal?: AbortSignal): Promise<void> {
    await this.#run(signal, async () => {
      await this.#sql`
        insert into leadership.lease_pin (namespace, model_uuid, name, entity)
        values (${key.namespace}, ${key.modelUUID}, ${key.lease}, ${entity})
        on conflict do nothing`;
    });
  }

  async unpinLease(key: LeaseKey, entity: string, signal?: AbortSignal): Promise<void> {
    await this.#run(signal, async () => {
      const sql = this.#sql;
      await sql`delete from leadership.lease_pin p where ${keyMatch(sql, key, "p")} and p.entity = ${entity}`;
    });
  }

  async pinned(signal?: AbortSignal): Promise<PinEntry[]> {
    return this.#run(signal, async () => {
      const rows = await this.#sql<
        { namespace: string; model_uuid: string; name: string; entities: string[] }[]
      >`
        select namespace, model_uuid, name, array_agg(entity order by entity) as entities
        from leadership.lease_pin group by namespace, model_uuid, name`;
      return rows.map((r) => ({
        key: { namespace: r.namespace, modelUUID: r.model_uuid, lease: r.name },
        entities: r.entities,
      }));
    });
  }

  async expireLeases(signal?: AbortSignal): Promise<void> {
    await this.#run(signal, () =>
      this.#sql.begin(async (tx) => {
        const now = this.now(tx);
        // SKIP LOCKED: rows a claim or another replica's sweep is working on are left to them.
        const gone = await tx<{ namespace: string; model_uuid: string; name: string; term: string }[]>`
          delete from leadership.lease d
          where (d.namespace, d.model_uuid, d.name) in (
            select l.namespace, l.model_uuid, l.name from leadership.lease l
            where ${expired(tx, now, "l")}
            for update skip locked)
          returning namespace, model_uuid, name, term`;
        const events = gone
          .filter((r) => r.namespace === LEADERSHIP_NAMESPACE)
          .map((r) => leaderEvent(r.model_uuid, r.name, "", Number(r.term)));
        await writeOutbox(tx, SCHEMA, events);
      }),
    );
  }

  #select(db: Db, where: Fragment): Promise<LeaseRow[]> {
    const now = this.now(db);
    return db<LeaseRow[]>`
      select l.namespace, l.model_uuid, l.name, l.holder, l.term,
             extract(epoch from l.start_at)::float8 * 1000 as start_ms,
             extract(epoch from l.expiry_at)::float8 * 1000 as expiry_ms
      from leadership.lease l
      where not ${expired(db, now, "l")} ${where}`;
  }

  async #run<T>(signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    if (signal?.aborted) throw new LeaseError("ErrAborted");
    try {
      return await op();
    } catch (err) {
      throw storeError(err, signal);
    }
  }
}

/** `<alias>` is the row of `key`. */
function keyMatch(db: Db, key: LeaseKey, alias: string): Fragment {
  const a = db(alias);
  return db`${a}.namespace = ${key.namespace} and ${a}.model_uuid = ${key.modelUUID} and ${a}.name = ${key.lease}`;
}

/** `<alias>` has expired at `now` and no pin holds it: it counts as absent (one rule for every statement). */
function expired(db: Db, now: Fragment, alias: string): Fragment {
  const a = db(alias);
  return db`(${a}.expiry_at <= ${now} and not exists (
    select 1 from leadership.lease_pin p
    where p.namespace = ${a}.namespace and p.model_uuid = ${a}.model_uuid and p.name = ${a}.name))`;
}

function toEntry(r: LeaseRow): LeaseEntry {
  return {
    key: { namespace: r.namespace, modelUUID: r.model_uuid, lease: r.name },
    info: { holder: r.holder, startMs: r.start_ms, expiryMs: r.expiry_ms, term: Number(r.term) },
  };
}
