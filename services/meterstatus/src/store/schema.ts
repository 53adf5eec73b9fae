// The meterstatus service's tables (Postgres schema `meterstatus`): the single truth drizzle-kit migrates from.
// Units are learned from the relation service's unit events; every row belongs to one model.
import { consumerOffsetsTable, outboxTable } from "@concord/events";
import { sql } from "drizzle-orm";
import { bigint, check, integer, pgSchema, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/** The service's Postgres schema. */
export const meterstatusSchema = pgSchema("meterstatus");

/** Each known unit's own meter status, its life (as last seen in its events) and its worker's saved state. */
export const unit = meterstatusSchema.table(
  "unit",
  {
    modelUuid: text("model_uuid").notNull(),
    name: text("name").notNull(),
    application: text("application").notNull(),
    life: text("life").notNull().default("alive"),
    code: text("code").notNull().default("NOT SET"),
    info: text("info").notNull().default(""),
    /** The meter-status worker's state YAML (spec §9); "" = no state. */
    workerState: text("worker_state").notNull().default(""),
  },
  (t) => [
    primaryKey({ columns: [t.modelUuid, t.name] }),
    check("unit_life_check", sql`${t.life} in ('alive', 'dying', 'dead')`),
    check("unit_code_check", sql`${t.code} in ('NOT SET', 'GREEN', 'AMBER', 'RED')`),
  ],
);

/** Per model: its own meter status and its metrics-manager state (spec §4); absent = the initial values. */
export const model = meterstatusSchema.table(
  "model",
  {
    modelUuid: text("model_uuid").primaryKey(),
    code: text("code").notNull().default("NOT SET"),
    info: text("info").notNull().default(""),
    lastSuccessfulSend: timestamp("last_successful_send", { withTimezone: true, precision: 3 }),
    consecutiveErrors: integer("consecutive_errors").notNull().default(0),
    gracePeriodMs: bigint("grace_period_ms", { mode: "number" }).notNull().default(604_800_000),
  },
  (t) => [
    check("model_code_check", sql`${t.code} in ('NOT SET', 'GREEN', 'AMBER', 'RED')`),
    check("model_grace_period_check", sql`${t.gracePeriodMs} >= 0`),
  ],
);

/** Change events waiting for the relay. */
export const outbox = outboxTable(meterstatusSchema);

/** Positions of this service's event consumers. */
export const consumerOffsets = consumerOffsetsTable(meterstatusSchema);
