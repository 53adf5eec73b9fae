// The relation service's tables (Postgres schema `relation`): the single truth drizzle-kit migrates from.
// Life, role, scope and status are stored by name. Every row belongs to one model.
import { consumerOffsetsTable, outboxTable } from "@concord/events";
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";

/** The service's Postgres schema. */
export const relationSchema = pgSchema("relation");

/** Models. */
export const model = relationSchema.table("model", {
  uuid: uuid("uuid").primaryKey(),
  name: text("name").notNull().unique(),
  life: text("life").notNull().default("alive"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Per-model sequences; relation ids use namespace `relation`. A row, not a SEQUENCE, so it rolls back. */
export const sequence = relationSchema.table(
  "sequence",
  {
    modelUuid: uuid("model_uuid")
      .notNull()
      .references(() => model.uuid, { onDelete: "cascade" }),
    namespace: text("namespace").notNull(),
    nextValue: integer("next_value").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.modelUuid, t.namespace] })],
);

/** Applications, with what inference and subordinate creation need of their charm. */
export const application = relationSchema.table(
  "application",
  {
    uuid: uuid("uuid").primaryKey(),
    modelUuid: uuid("model_uuid")
      .notNull()
      .references(() => model.uuid, { onDelete: "cascade" }),
    name: text("name").notNull(),
    life: text("life").notNull().default("alive"),
    subordinate: boolean("subordinate").notNull().default(false),
    remote: boolean("remote").notNull().default(false),
    /** `os@track[/risk]`; null = no base (platform). */
    base: text("base"),
    nextUnitNumber: integer("next_unit_number").notNull().default(0),
  },
  (t) => [unique("application_model_name_key").on(t.modelUuid, t.name)],
);

/** One row per (application, charm endpoint), the implicit juju-info included. */
export const applicationEndpoint = relationSchema.table(
  "application_endpoint",
  {
    uuid: uuid("uuid").primaryKey(),
    applicationUuid: uuid("application_uuid")
      .notNull()
      .references(() => application.uuid, { onDelete: "cascade" }),
    name: text("name").notNull(),
    role: text("role").notNull(),
    interface: text("interface").notNull(),
    scope: text("scope").notNull(),
    capacity: integer("capacity").notNull().default(0),
    optional: boolean("optional").notNull().default(false),
  },
  (t) => [unique("application_endpoint_application_name_key").on(t.applicationUuid, t.name)],
);

/** Units; a subordinate unit has a principal, and a principal has at most one unit of each subordinate. */
export const unit = relationSchema.table(
  "unit",
  {
    uuid: uuid("uuid").primaryKey(),
    modelUuid: uuid("model_uuid")
      .notNull()
      .references(() => model.uuid, { onDelete: "cascade" }),
    applicationUuid: uuid("application_uuid")
      .notNull()
      .references(() => application.uuid, { onDelete: "cascade" }),
    name: text("name").notNull(),
    life: text("life").notNull().default("alive"),
    machine: text("machine"),
    principalUuid: uuid("principal_uuid"),
    agentStatus: text("agent_status").notNull().default("allocating"),
    agentMessage: text("agent_message").notNull().default(""),
    workloadStatus: text("workload_status").notNull().default("waiting"),
    workloadMessage: text("workload_message").notNull().default(""),
  },
  (t) => [
    unique("unit_model_name_key").on(t.modelUuid, t.name),
    unique("unit_application_principal_key").on(t.applicationUuid, t.principalUuid),
    index("unit_principal_idx").on(t.principalUuid),
    foreignKey({ columns: [t.principalUuid], foreignColumns: [t.uuid], name: "unit_principal_fk" }).onDelete(
      "cascade",
    ),
  ],
);

/** Relations. `relation_id` is the id hooks see: unique in the model, never reused. */
export const relation = relationSchema.table(
  "relation",
  {
    uuid: uuid("uuid").primaryKey(),
    modelUuid: uuid("model_uuid")
      .notNull()
      .references(() => model.uuid, { onDelete: "cascade" }),
    relationId: integer("relation_id").notNull(),
    life: text("life").notNull().default("alive"),
    suspended: boolean("suspended").notNull().default(false),
    suspendedReason: text("suspended_reason").notNull().default(""),
    scope: text("scope").notNull(),
  },
  (t) => [unique("relation_model_relation_id_key").on(t.modelUuid, t.relationId)],
);

/** Membership of an application endpoint in a relation: one row for a peer relation, two otherwise. */
export const relationEndpoint = relationSchema.table(
  "relation_endpoint",
  {
    uuid: uuid("uuid").primaryKey(),
    relationUuid: uuid("relation_uuid")
      .notNull()
      .references(() => relation.uuid, { onDelete: "cascade" }),
    endpointUuid: uuid("endpoint_uuid")
      .notNull()
      .references(() => applicationEndpoint.uuid, { onDelete: "cascade" }),
  },
  (t) => [
    unique("relation_endpoint_relation_endpoint_key").on(t.relationUuid, t.endpointUuid),
    index("relation_endpoint_endpoint_idx").on(t.endpointUuid),
  ],
);

/** A unit in a relation's scope; its existence is the in-scope flag. Endpoints cannot go while it exists. */
export const relationUnit = relationSchema.table(
  "relation_unit",
  {
    uuid: uuid("uuid").primaryKey(),
    relationEndpointUuid: uuid("relation_endpoint_uuid")
      .notNull()
      .references(() => relationEndpoint.uuid, { onDelete: "restrict" }),
    unitUuid: uuid("unit_uuid")
      .notNull()
      .references(() => unit.uuid, { onDelete: "restrict" }),
  },
  (t) => [
    unique("relation_unit_endpoint_unit_key").on(t.relationEndpointUuid, t.unitUuid),
    index("relation_unit_unit_idx").on(t.unitUuid),
  ],
);

/** A relation unit's settings. */
export const relationUnitSetting = relationSchema.table(
  "relation_unit_setting",
  {
    relationUnitUuid: uuid("relation_unit_uuid")
      .notNull()
      .references(() => relationUnit.uuid, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.relationUnitUuid, t.key] }),
    check("relation_unit_setting_key_not_empty", sql`${t.key} <> ''`),
  ],
);

/** Digest of a relation unit's whole settings, written with them; watchers derive versions from it. */
export const relationUnitSettingsHash = relationSchema.table("relation_unit_settings_hash", {
  relationUnitUuid: uuid("relation_unit_uuid")
    .primaryKey()
    .references(() => relationUnit.uuid, { onDelete: "cascade" }),
  sha256: text("sha256").notNull(),
});

/** Application settings, per relation side. */
export const relationApplicationSetting = relationSchema.table(
  "relation_application_setting",
  {
    relationEndpointUuid: uuid("relation_endpoint_uuid")
      .notNull()
      .references(() => relationEndpoint.uuid, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.relationEndpointUuid, t.key] }),
    check("relation_application_setting_key_not_empty", sql`${t.key} <> ''`),
  ],
);

/** Digest of one side's application settings. */
export const relationApplicationSettingsHash = relationSchema.table("relation_application_settings_hash", {
  relationEndpointUuid: uuid("relation_endpoint_uuid")
    .primaryKey()
    .references(() => relationEndpoint.uuid, { onDelete: "cascade" }),
  sha256: text("sha256").notNull(),
});

/** A unit's settings as they were when it left scope; kept until the relation is removed. */
export const relationUnitSettingArchive = relationSchema.table(
  "relation_unit_setting_archive",
  {
    relationUuid: uuid("relation_uuid")
      .notNull()
      .references(() => relation.uuid, { onDelete: "cascade" }),
    unitName: text("unit_name").notNull(),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.relationUuid, t.unitName, t.key] })],
);

/** A relation's status. */
export const relationStatus = relationSchema.table("relation_status", {
  relationUuid: uuid("relation_uuid")
    .primaryKey()
    .references(() => relation.uuid, { onDelete: "cascade" }),
  status: text("status").notNull(),
  message: text("message").notNull().default(""),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
});

/** Egress CIDRs of a cross-model relation (`integrate --via`). */
export const relationNetworkEgress = relationSchema.table(
  "relation_network_egress",
  {
    relationUuid: uuid("relation_uuid")
      .notNull()
      .references(() => relation.uuid, { onDelete: "cascade" }),
    cidr: text("cidr").notNull(),
  },
  (t) => [primaryKey({ columns: [t.relationUuid, t.cidr] })],
);

/**
 * Projection of application leadership, fed by the leadership service's `leader` events: the holder and the
 * fencing term a leader's writes must present.
 */
export const leader = relationSchema.table(
  "leader",
  {
    modelUuid: uuid("model_uuid").notNull(),
    application: text("application").notNull(),
    /** Unit name; empty while nobody holds the lease. */
    holder: text("holder").notNull(),
    term: bigint("term", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelUuid, t.application] })],
);

/** Change events waiting for the relay. */
export const outbox = outboxTable(relationSchema);

/** Positions of this service's event consumers (the leader projection). */
export const consumerOffsets = consumerOffsetsTable(relationSchema);
