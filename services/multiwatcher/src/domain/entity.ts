import type { ChangeEvent, Entity } from "@concord/proto/events/v1/events";
import type { EntityKey, EntityKind } from "./types";

/** Every entity kind, in the proto's one-of order. */
export const entityKinds: readonly EntityKind[] = [
  "model",
  "application",
  "unit",
  "relation",
  "leader",
  "meterStatus",
];

/** True when `kind` names an entity kind the multiwatcher serves. */
export function isEntityKind(kind: string): kind is EntityKind {
  return (entityKinds as readonly string[]).includes(kind);
}

/** The identity of an entity value, read from its own fields; undefined when the one-of is unset. */
export function entityKey(entity: Entity): EntityKey | undefined {
  const k = entity.kind;
  switch (k.case) {
    case "model":
      return { kind: "model", modelUUID: k.value.modelUuid, id: k.value.modelUuid };
    case "application":
      return { kind: "application", modelUUID: k.value.modelUuid, id: k.value.name };
    case "unit":
      return { kind: "unit", modelUUID: k.value.modelUuid, id: k.value.name };
    case "relation":
      return { kind: "relation", modelUUID: k.value.modelUuid, id: k.value.key };
    case "leader":
      return { kind: "leader", modelUUID: k.value.modelUuid, id: k.value.application };
    case "meterStatus":
      return { kind: "meterStatus", modelUUID: k.value.modelUuid, id: k.value.unit };
    default:
      return undefined;
  }
}

/** A map key for an entity identity. */
export function keyString(key: EntityKey): string {
  return `${key.kind}\u0000${key.modelUUID}\u0000${key.id}`;
}

/** One decoded change of an event: an upsert with the full value, or a removal. */
export type Change = { type: "upsert"; key: EntityKey; entity: Entity } | { type: "remove"; key: EntityKey };

/**
 * Reads the change a ChangeEvent carries, or says why it cannot be applied. The event's own identity fields must
 * agree with the entity's, so that a publisher bug never files a value under the wrong id.
 */
export function decodeChange(event: ChangeEvent): Change | { invalid: string } {
  if (!isEntityKind(event.kind)) return { invalid: `unknown entity kind ${JSON.stringify(event.kind)}` };
  if (event.modelUuid === "") return { invalid: "empty model UUID" };
  if (event.id === "") return { invalid: "empty entity id" };
  const key: EntityKey = { kind: event.kind, modelUUID: event.modelUuid, id: event.id };
  switch (event.change.case) {
    case "removed":
      return { type: "remove", key };
    case "entity": {
      const own = entityKey(event.change.value);
      if (!own) return { invalid: "entity has no value" };
      if (own.kind !== key.kind || own.modelUUID !== key.modelUUID || own.id !== key.id) {
        return {
          invalid: `entity ${own.kind} ${own.modelUUID}/${own.id} does not match event ${key.kind} ${key.modelUUID}/${key.id}`,
        };
      }
      return { type: "upsert", key, entity: event.change.value };
    }
    default:
      return { invalid: "event carries neither an entity nor a removal" };
  }
}
