// The leadership service's tables (Postgres schema `leadership`): the single truth drizzle-kit migrates from.
// Times are the database's; the unique key of `lease` is the mutual-exclusion guarantee (spec §6.2).
import { consumerOffsetsTable, outboxTable } from "@concord/events";
import { bigint, index, jsonb, pgSchema, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/** The service's Postgres schema. */
export const leadershipSchema = pgSchema("leadership");

/** One row per held lease. A row whose expiry has passed and that has no pin counts as absent everywhere. */
export const lease = leadershipSchema.table(
  "lease",
  {
    namespace: text("namespace").notNull(),
    modelUuid: text("model_uuid").notNull(),
    name: text("name").notNull(),
    holder: text("holder").notNull(),
    startAt: timestamp("start_at", { withTimezone: true, precision: 6 }).notNull(),
    expiryAt: timestamp("expiry_at", { withTimezone: true, precision: 6 }).notNull(),
    term: bigint("term", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({ name: "lease_pkey", columns: [t.namespace, t.modelUuid, t.name] }),
    // The expiry sweep looks leases up by expiry.
    index("lease_expiry_at_idx").on(t.expiryAt),
  ],
);

/** Pins hang on the lease key, not on a lease row: they exist without a holder and survive revokes. */
export const leasePin = leadershipSchema.table(
  "lease_pin",
  {
    namespace: text("namespace").notNull(),
    modelUuid: text("model_uuid").notNull(),
    name: text("name").notNull(),
    entity: text("entity").notNull(),
  },
  (t) => [primaryKey({ name: "lease_pin_pkey", columns: [t.namespace, t.modelUuid, t.name, t.entity] })],
);

/** The last term given out per lease key; never deleted, so terms are never reused (spec §8). */
export const leaseTerm = leadershipSchema.table(
  "lease_term",
  {
    namespace: text("namespace").notNull(),
    modelUuid: text("model_uuid").notNull(),
    name: text("name").notNull(),
    term: bigint("term", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ name: "lease_term_pkey", columns: [t.namespace, t.modelUuid, t.name] })],
);

/** Leader settings of an application (spec §9.5); `version` increases with every write. */
export const leaderSettings = leadershipSchema.table(
  "leader_settings",
  {
    modelUuid: text("model_uuid").notNull(),
    application: text("application").notNull(),
    settings: jsonb("settings").$type<Record<string, string>>().notNull().default({}),
    version: bigint("version", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ name: "leader_settings_pkey", columns: [t.modelUuid, t.application] })],
);

/** Change events (`leader`) written in the transaction that changes a holder; relayed by the runtime. */
export const outbox = outboxTable(leadershipSchema);

/** Position of the consumer of the relation service's unit events. */
export const consumerOffsets = consumerOffsetsTable(leadershipSchema);
