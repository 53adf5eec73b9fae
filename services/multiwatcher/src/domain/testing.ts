// Builders shared by the domain's unit tests.
import { create } from "@bufbuild/protobuf";
import {
  type ChangeEvent,
  ChangeEventSchema,
  type Entity,
  EntitySchema,
  UnitInfoSchema,
} from "@concord/proto/events/v1/events";
import { entityKey } from "./entity";

/** Model UUIDs for tests. */
export const uuid0 = "00000000-0000-4000-8000-000000000000";
export const uuid1 = "11111111-1111-4111-8111-111111111111";

/** A unit entity of `application`, with an optional workload status. */
export function unit(modelUUID: string, name: string, workload?: string): Entity {
  return create(EntitySchema, {
    kind: {
      case: "unit",
      value: create(UnitInfoSchema, {
        modelUuid: modelUUID,
        name,
        application: name.split("/")[0] ?? name,
        ...(workload ? { workloadStatus: { current: workload, message: "" } } : {}),
      }),
    },
  });
}

/** A single-event commit that sets the entity. */
export function upsert(
  entity: Entity,
  commit: Partial<Pick<ChangeEvent, "commitId" | "commitIndex" | "commitSize">> = {},
): ChangeEvent {
  const key = entityKey(entity)!;
  return create(ChangeEventSchema, {
    modelUuid: key.modelUUID,
    kind: key.kind,
    id: key.id,
    change: { case: "entity", value: entity },
    ...commit,
  });
}

/** A single-event commit that removes the unit. */
export function removeUnit(
  modelUUID: string,
  name: string,
  commit: Partial<Pick<ChangeEvent, "commitId" | "commitIndex" | "commitSize">> = {},
): ChangeEvent {
  return create(ChangeEventSchema, {
    modelUuid: modelUUID,
    kind: "unit",
    id: name,
    change: { case: "removed", value: true },
    ...commit,
  });
}

/** The unit names of a list of deltas, prefixed with "-" for removals. */
export function names(deltas: { removed: boolean; entity: Entity }[]): string[] {
  return deltas.map((d) => `${d.removed ? "-" : ""}${entityKey(d.entity)!.id}`);
}

/** Lets promise callbacks run, so a settled `next()` can be observed. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks a promise's outcome without awaiting it. */
export function track<T>(p: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const t: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(t, { settled: true, value }),
    (error: unknown) => Object.assign(t, { settled: true, error }),
  );
  return t;
}
