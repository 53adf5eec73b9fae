import { randomUUID } from "node:crypto";
import { clone, toBinary } from "@bufbuild/protobuf";
import { type ChangeEvent, ChangeEventSchema } from "@concord/proto/events/v1/events";
import { bigint, bigserial, customType, type PgSchema, text, timestamp } from "drizzle-orm/pg-core";
import type { TransactionSql } from "postgres";
import { subjectFor } from "./subjects";

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
});

/** The service's outbox table, `<schema>.outbox`, for its drizzle `schema.ts` (drizzle-kit then migrates it). */
export function outboxTable(schema: PgSchema) {
  return schema.table("outbox", {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    subject: text("subject").notNull(),
    msgId: text("msg_id").notNull().unique(),
    payload: bytea("payload").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  });
}

/** The positions of a service's event consumers, `<schema>.consumer_offsets`, for its drizzle `schema.ts`. */
export function consumerOffsetsTable(schema: PgSchema) {
  return schema.table("consumer_offsets", {
    name: text("name").primaryKey(),
    seq: bigint("seq", { mode: "number" }).notNull(),
  });
}

/** SQL creating the schema with the outbox and consumer-offsets tables as the drizzle factories define them. */
export function eventTablesDdl(schema: string): string {
  const s = quoteIdent(schema);
  return `create schema if not exists ${s};
create table if not exists ${s}.outbox (
  id bigserial primary key,
  subject text not null,
  msg_id text not null constraint outbox_msg_id_unique unique,
  payload bytea not null,
  created_at timestamp with time zone default now() not null
);
create table if not exists ${s}.consumer_offsets (
  name text primary key,
  seq bigint not null
);`;
}

/** Double-quotes a Postgres identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The `pg_notify` channel on which a schema's writers wake its relay. */
export function outboxChannel(schema: string): string {
  return `concord_outbox_${schema}`;
}

/** Advisory-lock keys (hashed in SQL with `hashtext`). */
export const lockKeys = {
  /** Held by writers until commit, so outbox ids commit in increasing order. */
  writers: (schema: string) => `concord-outbox-write:${schema}`,
  /** Held for a session by the one relay publishing the schema's outbox. */
  relay: (schema: string) => `concord-outbox-relay:${schema}`,
};

/**
 * Records the events of the current transaction in `<schema>.outbox`, to be published by the relay after
 * commit. Stamps them with one commit id, their index and the commit's size, and gives each the dedup id
 * `${commitId}:${index}`. Serialises the schema's writers from here to commit (an advisory transaction lock),
 * so outbox ids become visible in id order and the relay never skips a row that commits late: call it last in
 * the transaction. Returns the commit id, or undefined when there is nothing to write.
 */
export async function writeOutbox(
  tx: TransactionSql,
  schema: string,
  events: ChangeEvent[],
): Promise<string | undefined> {
  if (events.length === 0) return undefined;
  const commitId = randomUUID();
  const rows = events.map((e, index) => {
    const event = clone(ChangeEventSchema, e);
    event.commitId = commitId;
    event.commitIndex = index;
    event.commitSize = events.length;
    const payload = toBinary(ChangeEventSchema, event);
    return {
      subject: subjectFor(event),
      msg_id: `${commitId}:${index}`,
      payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    };
  });
  await tx`select pg_advisory_xact_lock(hashtext(${lockKeys.writers(schema)})),
    pg_notify(${outboxChannel(schema)}, '')`;
  await tx`insert into ${tx(`${schema}.outbox`)} ${tx(rows, "subject", "msg_id", "payload")}`;
  return commitId;
}
