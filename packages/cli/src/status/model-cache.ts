import type { Entity } from "@concord/proto/events/v1/events";
import type { WatchResult } from "@concord/proto/multiwatcher/v1/multiwatcher";

/**
 * A client's copy of one model, kept from WatchModel results as the multiwatcher spec's client rules say (§11.8):
 * a snapshot replaces everything, a change replaces its entity whole, a removal deletes it, unknown kinds are
 * ignored, and the revision of every result (bookmarks included) is recorded for resuming.
 */
export class ModelCache {
  readonly #entities = new Map<string, Entity>();
  /** The revision of the last result applied; resume from it. */
  revision: bigint | undefined;
  /** The event log identity the revision belongs to. */
  logId = "";

  /** Applies one result. */
  apply(result: WatchResult): void {
    if (result.snapshot) this.#entities.clear();
    for (const delta of result.deltas) {
      const key = delta.entity ? entityKey(delta.entity) : undefined;
      if (key === undefined) continue;
      if (delta.removed) this.#entities.delete(key);
      else this.#entities.set(key, delta.entity!);
    }
    this.revision = result.revision;
    this.logId = result.logId;
  }

  /** Every cached entity. */
  entities(): Entity[] {
    return [...this.#entities.values()];
  }
}

/** `kind/id` of an entity, as the multiwatcher keys it; undefined for kinds this client does not know. */
export function entityKey(entity: Entity): string | undefined {
  const k = entity.kind;
  switch (k.case) {
    case "model":
      return `model/${k.value.modelUuid}`;
    case "application":
      return `application/${k.value.name}`;
    case "unit":
      return `unit/${k.value.name}`;
    case "relation":
      return `relation/${k.value.key}`;
    case "leader":
      return `leader/${k.value.application}`;
    case "meterStatus":
      return `meterStatus/${k.value.unit}`;
    default:
      return undefined;
  }
}
