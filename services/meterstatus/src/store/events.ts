// Change events (written to the outbox in the writing transaction) and the pg_notify that wakes every replica's
// WatchMeterStatus streams.
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { writeOutbox } from "@concord/events";
import { type ChangeEvent, ChangeEventSchema } from "@concord/proto/events/v1/events";
import type { MeterStatus } from "../domain";
import type { Db } from "./types";

/** The Postgres schema whose outbox the runtime relays. */
export const SCHEMA = "meterstatus";

/** The kind of this service's change events. */
export const EVENT_KIND = "meterStatus";

const SOURCE = "meterstatus";

/**
 * The LISTEN/NOTIFY channel of one model's meter-status changes. Hashed: a channel name is an identifier of at
 * most 63 bytes and model UUIDs arrive from events as any text. The payload is the unit name, or "" for a
 * change that concerns every unit (the metrics-manager state).
 */
export function modelChannel(modelUuid: string): string {
  return `concord_meterstatus_${createHash("sha256").update(modelUuid).digest("hex").slice(0, 32)}`;
}

/** A unit's meter status event: its own status, or its removal. */
export function meterStatusEvent(
  modelUuid: string,
  unit: string,
  status: MeterStatus | undefined,
): ChangeEvent {
  return create(ChangeEventSchema, {
    modelUuid,
    kind: EVENT_KIND,
    id: unit,
    source: SOURCE,
    change: status
      ? {
          case: "entity",
          value: {
            kind: { case: "meterStatus", value: { modelUuid, unit, code: status.code, info: status.info } },
          },
        }
      : { case: "removed", value: true },
  });
}

/** Wakes the model's watchers of `unit` ("" = every unit) once the transaction commits. */
export async function notifyWatchers(tx: Db, modelUuid: string, unit: string): Promise<void> {
  await tx`select pg_notify(${modelChannel(modelUuid)}, ${unit})`;
}

/** Publishes the events (outbox) and wakes the watchers of each unit; call last in the transaction. */
export async function publish(tx: Db, modelUuid: string, events: ChangeEvent[]): Promise<void> {
  if (events.length === 0) return;
  const units = [...new Set(events.map((e) => e.id))];
  await tx`select pg_notify(${modelChannel(modelUuid)}, u) from unnest(${units}::text[]) as u`;
  await writeOutbox(tx as never, SCHEMA, events);
}
