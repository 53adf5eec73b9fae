// Learns units from the relation service's events: a unit that appears starts NOT SET, a removed unit (or
// model) loses its meter status. Each event's effects commit with the consumer's position: exactly once.
import { type Consumer, type EventLog, type Logger, startConsumer, subjectFilter } from "@concord/events";
import { type ChangeEvent, Life as PbLife } from "@concord/proto/events/v1/events";
import type { Sql, TransactionSql } from "postgres";
import type { Life } from "./domain";
import { removeModel, removeUnit, SCHEMA, upsertUnit } from "./store";

function life(l: PbLife): Life {
  return l === PbLife.DYING ? "dying" : l === PbLife.DEAD ? "dead" : "alive";
}

/** Applies one unit event. */
export async function handleUnitEvent(tx: TransactionSql, event: ChangeEvent): Promise<void> {
  if (event.kind !== "unit") return;
  if (event.change.case === "removed") {
    await removeUnit(tx, event.modelUuid, event.id);
    return;
  }
  if (event.change.case !== "entity" || event.change.value.kind.case !== "unit") return;
  const u = event.change.value.kind.value;
  const name = u.name || event.id;
  await upsertUnit(tx, event.modelUuid, {
    name,
    application: u.application || name.slice(0, name.lastIndexOf("/")),
    life: life(u.life),
  });
}

/** Applies one model event: only a removal matters. */
export async function handleModelEvent(tx: TransactionSql, event: ChangeEvent): Promise<void> {
  if (event.kind === "model" && event.change.case === "removed") await removeModel(tx, event.modelUuid);
}

/** Starts the unit and model consumers. */
export async function startUnitConsumers(options: {
  log: EventLog;
  sql: Sql;
  logger?: Logger;
}): Promise<[units: Consumer, models: Consumer]> {
  const common = {
    log: options.log,
    sql: options.sql,
    schema: SCHEMA,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const units = await startConsumer({
    ...common,
    name: "meterstatus-units",
    filterSubject: subjectFilter({ kind: "unit" }),
    handle: (tx, event) => handleUnitEvent(tx, event),
  });
  const models = await startConsumer({
    ...common,
    name: "meterstatus-models",
    filterSubject: subjectFilter({ kind: "model" }),
    handle: (tx, event) => handleModelEvent(tx, event),
  });
  return [units, models];
}
