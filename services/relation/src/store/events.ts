// What a transaction changed, turned into change events (written to the outbox in the same transaction) and a
// pg_notify on the model's channel that wakes every replica's watchers.
import { create } from "@bufbuild/protobuf";
import { writeOutbox } from "@concord/events";
import {
  ApplicationInfoSchema,
  type ChangeEvent,
  ChangeEventSchema,
  type Entity,
  ModelInfoSchema,
  Life as PbLife,
  type RelationInfo,
  RelationInfoSchema,
  UnitInfoSchema,
} from "@concord/proto/events/v1/events";
import type { Life } from "../domain/types";
import { type Db, readApplicationByUUID, readModel, readRelation, readUnitByUUID } from "./read";
import type { RelationView } from "./types";

/** The Postgres schema whose outbox the runtime relays. */
export const SCHEMA = "relation";

/** The source name change events carry. */
const SOURCE = "relation";

/** The LISTEN/NOTIFY channel of one model's changes. */
export function modelChannel(modelUuid: string): string {
  return `concord_relation_${modelUuid.replaceAll("-", "")}`;
}

/** Event life values by domain life. */
export function pbLife(life: Life): PbLife {
  return life === "alive" ? PbLife.ALIVE : life === "dying" ? PbLife.DYING : PbLife.DEAD;
}

/** The relation event payload: endpoints, life, status and the units in scope. */
export function relationInfo(r: RelationView): RelationInfo {
  return create(RelationInfoSchema, {
    modelUuid: r.modelUuid,
    key: r.key,
    relationId: r.id,
    uuid: r.uuid,
    endpoints: r.endpoints.map((e) => ({
      application: e.application,
      name: e.name,
      role: e.role,
      interface: e.interface,
      scope: e.scope,
      limit: e.capacity,
    })),
    life: pbLife(r.life),
    status: { current: r.status, message: r.statusMessage },
    unitsInScope: r.unitsInScope,
    suspended: r.suspended,
  });
}

/**
 * The entities one transaction changed. Operations record what they touched; {@link Changes.flush} reads each
 * entity's state at the end of the transaction, so an entity touched twice is published once, as it ends up.
 */
export class Changes {
  readonly #models = new Set<string>();
  readonly #applications = new Set<string>();
  readonly #units = new Set<string>();
  readonly #relations = new Set<string>();
  readonly #removed: ChangeEvent[] = [];
  readonly #notify = new Set<string>();

  constructor(readonly modelUuid: string) {}

  model(uuid: string): this {
    this.#models.add(uuid);
    return this;
  }
  application(uuid: string): this {
    this.#applications.add(uuid);
    return this;
  }
  unit(uuid: string): this {
    this.#units.add(uuid);
    return this;
  }
  relation(uuid: string): this {
    this.#relations.add(uuid);
    return this;
  }
  /** Settings changed: no entity event, but watchers must look again. */
  settings(): this {
    this.#notify.add(this.modelUuid);
    return this;
  }
  /** An entity that is gone: publish its removal under its last id. */
  removed(kind: "model" | "application" | "unit" | "relation", id: string): this {
    this.#removed.push(
      create(ChangeEventSchema, {
        modelUuid: this.modelUuid,
        kind,
        id,
        change: { case: "removed", value: true },
      }),
    );
    this.#notify.add(this.modelUuid);
    return this;
  }

  /** Writes the outbox and notifies the model's watchers; call last in the transaction. */
  async flush(tx: Db): Promise<void> {
    const events: ChangeEvent[] = [];
    const model = this.modelUuid;
    const event = (kind: string, id: string, entity: Entity["kind"]) =>
      create(ChangeEventSchema, {
        modelUuid: model,
        kind,
        id,
        source: SOURCE,
        change: { case: "entity", value: { kind: entity } },
      });
    for (const uuid of this.#models) {
      const m = await readModel(tx, uuid);
      if (m)
        events.push(
          event("model", m.uuid, {
            case: "model",
            value: create(ModelInfoSchema, { modelUuid: m.uuid, name: m.name, life: pbLife(m.life) }),
          }),
        );
    }
    for (const uuid of this.#applications) {
      const a = await readApplicationByUUID(tx, model, uuid);
      if (a)
        events.push(
          event("application", a.name, {
            case: "application",
            value: create(ApplicationInfoSchema, {
              modelUuid: model,
              name: a.name,
              life: pbLife(a.life),
              subordinate: a.subordinate,
            }),
          }),
        );
    }
    for (const uuid of this.#units) {
      const u = await readUnitByUUID(tx, uuid);
      if (u)
        events.push(
          event("unit", u.name, {
            case: "unit",
            value: create(UnitInfoSchema, {
              modelUuid: model,
              name: u.name,
              application: u.application,
              principal: u.principal,
              life: pbLife(u.life),
              workloadStatus: { current: u.workloadStatus, message: u.workloadMessage },
              agentStatus: { current: u.agentStatus, message: u.agentMessage },
            }),
          }),
        );
    }
    for (const uuid of this.#relations) {
      const r = await readRelation(tx, model, uuid);
      if (r) events.push(event("relation", r.key, { case: "relation", value: relationInfo(r) }));
    }
    for (const e of this.#removed) events.push(create(ChangeEventSchema, { ...e, source: SOURCE }));
    if (events.length > 0 || this.#notify.size > 0) {
      await tx`select pg_notify(${modelChannel(model)}, '')`;
    }
    await writeOutbox(tx as never, SCHEMA, events);
  }
}
