// The service's reads and writes. Each write checks and changes in one transaction, publishes its events to
// the outbox and notifies the watchers in that same transaction.
import type { Sql } from "postgres";
import {
  applyCollectorGracePeriod,
  initialMeterStatus,
  type Life,
  type MeterStatus,
  type MeterStatusCode,
  MeterStatusError,
  type MetricsManagerState,
  newMetricsManager,
  planModelMeterStatus,
  planUnitMeterStatus,
  recordFailedSend,
  recordSuccessfulSend,
  setGracePeriod,
  validateMeterStatusCode,
} from "../domain";
import { meterStatusEvent, notifyWatchers, publish } from "./events";
import type { Db, UnitRow, UnitStatusRead } from "./types";

interface ModelRow {
  code: MeterStatusCode;
  info: string;
  /** Epoch milliseconds (read as a number: drizzle's driver setup leaves timestamps unparsed on the pool). */
  lastSuccessfulSend: number | null;
  consecutiveErrors: number;
  gracePeriodMs: string | number;
}

function toMetricsManager(row: ModelRow | undefined): MetricsManagerState {
  if (!row) return newMetricsManager();
  return {
    lastSuccessfulSend: row.lastSuccessfulSend === null ? undefined : Number(row.lastSuccessfulSend),
    consecutiveErrors: row.consecutiveErrors,
    gracePeriodMs: Number(row.gracePeriodMs),
  };
}

async function readModelRow(db: Db, modelUuid: string, forUpdate = false): Promise<ModelRow | undefined> {
  const lock = forUpdate ? db`for update` : db``;
  const [row] = await db<ModelRow[]>`select code, info,
      round(extract(epoch from last_successful_send) * 1000)::float8 as "lastSuccessfulSend",
      consecutive_errors as "consecutiveErrors", grace_period_ms as "gracePeriodMs"
    from meterstatus.model where model_uuid = ${modelUuid} ${lock}`;
  return row;
}

/** The model's row, created with the initial values if missing, locked for the transaction. */
async function lockModelRow(tx: Db, modelUuid: string): Promise<ModelRow> {
  await tx`insert into meterstatus.model (model_uuid) values (${modelUuid}) on conflict do nothing`;
  return (await readModelRow(tx, modelUuid, true)) as ModelRow;
}

/** The model's metrics-manager state (the initial state for a model never written). */
export async function readMetricsManager(db: Db, modelUuid: string): Promise<MetricsManagerState> {
  return toMetricsManager(await readModelRow(db, modelUuid));
}

/** The model's own meter status. */
export async function readModelMeterStatus(db: Db, modelUuid: string): Promise<MeterStatus> {
  const row = await readModelRow(db, modelUuid);
  return row ? { code: row.code, info: row.info } : initialMeterStatus();
}

/**
 * The metrics-manager state and the own status of each named unit, in one round trip: what GetMeterStatus
 * and each watcher event read.
 */
export async function readUnitStatuses(
  db: Db,
  modelUuid: string,
  units: string[],
): Promise<{ metricsManager: MetricsManagerState; units: UnitStatusRead[] }> {
  const rows = await db<
    (Partial<ModelRow> & { name: string | null; unitCode: MeterStatusCode; unitInfo: string })[]
  >`
    select round(extract(epoch from m.last_successful_send) * 1000)::float8 as "lastSuccessfulSend", m.consecutive_errors as "consecutiveErrors",
      m.grace_period_ms as "gracePeriodMs", u.name, u.code as "unitCode", u.info as "unitInfo"
    from (values (1)) as one (x)
    left join meterstatus.model m on m.model_uuid = ${modelUuid}
    left join meterstatus.unit u on u.model_uuid = ${modelUuid} and u.name = any(${units}::text[])`;
  const first = rows[0];
  const metricsManager =
    first?.consecutiveErrors === null || first?.consecutiveErrors === undefined
      ? newMetricsManager()
      : toMetricsManager(first as ModelRow);
  const found = new Map<string, MeterStatus>();
  for (const r of rows) if (r.name !== null) found.set(r.name, { code: r.unitCode, info: r.unitInfo });
  return { metricsManager, units: units.map((unit) => ({ unit, status: found.get(unit) })) };
}

/** Every known unit of the model (or of one application), sorted by name. */
export async function listUnits(db: Db, modelUuid: string, application?: string): Promise<UnitRow[]> {
  return application
    ? db<UnitRow[]>`select name, application, life, code, info from meterstatus.unit
        where model_uuid = ${modelUuid} and application = ${application} order by name`
    : db<UnitRow[]>`select name, application, life, code, info from meterstatus.unit
        where model_uuid = ${modelUuid} order by name`;
}

function unitNotFound(unit: string): MeterStatusError {
  return new MeterStatusError("NotFound", `unit "${unit}" not found`);
}

/**
 * SetMeterStatus on one unit or every alive unit of an application (spec §3): validates the code, checks
 * life and writes in one transaction. Returns the units whose status changed.
 */
export async function setUnitMeterStatus(
  sql: Sql,
  modelUuid: string,
  target: { unit: string } | { application: string },
  code: string,
  info: string,
): Promise<string[]> {
  validateMeterStatusCode(code);
  return sql.begin(async (tx) => {
    let rows: UnitRow[];
    if ("unit" in target) {
      rows = await tx<UnitRow[]>`select name, application, life, code, info from meterstatus.unit
        where model_uuid = ${modelUuid} and name = ${target.unit} for update`;
      if (rows.length === 0) throw unitNotFound(target.unit);
    } else {
      rows = await tx<UnitRow[]>`select name, application, life, code, info from meterstatus.unit
        where model_uuid = ${modelUuid} and application = ${target.application} order by name for update`;
      if (rows.length === 0)
        throw new MeterStatusError("NotFound", `application "${target.application}" not found`);
      // The operator's command addresses the application: units on their way out are left alone.
      rows = rows.filter((r) => r.life === "alive");
    }
    const events = [];
    for (const row of rows) {
      const next = planUnitMeterStatus(row, { code: row.code, info: row.info }, code, info);
      if (!next) continue;
      await tx`update meterstatus.unit set code = ${next.code}, info = ${next.info}
        where model_uuid = ${modelUuid} and name = ${row.name}`;
      events.push(meterStatusEvent(modelUuid, row.name, next));
    }
    await publish(tx, modelUuid, events);
    return events.map((e) => e.id);
  });
}

/** Sets the model's own meter status (same validation); not folded into any unit's status. */
export async function setModelMeterStatus(
  sql: Sql,
  modelUuid: string,
  code: string,
  info: string,
): Promise<void> {
  validateMeterStatusCode(code);
  await sql.begin(async (tx) => {
    const row = await lockModelRow(tx, modelUuid);
    const next = planModelMeterStatus({ code: row.code, info: row.info }, code, info);
    if (next)
      await tx`update meterstatus.model set code = ${next.code}, info = ${next.info} where model_uuid = ${modelUuid}`;
  });
}

async function writeMetricsManager(tx: Db, modelUuid: string, s: MetricsManagerState): Promise<void> {
  const last = s.lastSuccessfulSend === undefined ? null : new Date(s.lastSuccessfulSend).toISOString();
  await tx`update meterstatus.model set last_successful_send = ${last}::timestamptz,
    consecutive_errors = ${s.consecutiveErrors}, grace_period_ms = ${s.gracePeriodMs}
    where model_uuid = ${modelUuid}`;
  // The metrics-manager state is part of every unit's effective status.
  await notifyWatchers(tx, modelUuid, "");
}

/** Records one send to the collector at `now` (spec §4); returns the new state. */
export async function recordMetricsSend(
  sql: Sql,
  modelUuid: string,
  outcome: { success: boolean; gracePeriodMs: number },
  now: number,
): Promise<MetricsManagerState> {
  if (outcome.gracePeriodMs < 0) throw new MeterStatusError("NotValid", "grace period can't be negative");
  return sql.begin(async (tx) => {
    let s = toMetricsManager(await lockModelRow(tx, modelUuid));
    if (outcome.success) {
      s = applyCollectorGracePeriod(recordSuccessfulSend(s, now), outcome.gracePeriodMs);
    } else {
      s = recordFailedSend(s);
    }
    await writeMetricsManager(tx, modelUuid, s);
    return s;
  });
}

/** Sets the model's metrics grace period; a negative one is NotValid. */
export async function setMetricsGracePeriod(
  sql: Sql,
  modelUuid: string,
  gracePeriodMs: number,
): Promise<void> {
  await sql.begin(async (tx) => {
    const s = setGracePeriod(toMetricsManager(await lockModelRow(tx, modelUuid)), gracePeriodMs);
    await writeMetricsManager(tx, modelUuid, s);
  });
}

/** The unit's saved worker state ("" = none); NotFound for an unknown unit. */
export async function readWorkerState(db: Db, modelUuid: string, unit: string): Promise<string> {
  const [row] = await db<{ workerState: string }[]>`select worker_state as "workerState" from meterstatus.unit
    where model_uuid = ${modelUuid} and name = ${unit}`;
  if (!row) throw unitNotFound(unit);
  return row.workerState;
}

/** Replaces the unit's saved worker state; NotFound for an unknown unit. */
export async function writeWorkerState(
  db: Db,
  modelUuid: string,
  unit: string,
  state: string,
): Promise<void> {
  const rows = await db`update meterstatus.unit set worker_state = ${state}
    where model_uuid = ${modelUuid} and name = ${unit} returning 1`;
  if (rows.length === 0) throw unitNotFound(unit);
}

/**
 * A unit event from the relation service: a new unit starts NOT SET (and is published); a known one only has
 * its life and application refreshed.
 */
export async function upsertUnit(
  tx: Db,
  modelUuid: string,
  unit: { name: string; application: string; life: Life },
): Promise<boolean> {
  const inserted = await tx`insert into meterstatus.unit (model_uuid, name, application, life)
    values (${modelUuid}, ${unit.name}, ${unit.application}, ${unit.life})
    on conflict (model_uuid, name) do nothing returning 1`;
  if (inserted.length > 0) {
    await publish(tx, modelUuid, [meterStatusEvent(modelUuid, unit.name, initialMeterStatus())]);
    return true;
  }
  await tx`update meterstatus.unit set life = ${unit.life}, application = ${unit.application}
    where model_uuid = ${modelUuid} and name = ${unit.name}
      and (life <> ${unit.life} or application <> ${unit.application})`;
  return false;
}

/** The unit is gone: its meter status (and worker state) goes with it, and its removal is published. */
export async function removeUnit(tx: Db, modelUuid: string, name: string): Promise<boolean> {
  const deleted =
    await tx`delete from meterstatus.unit where model_uuid = ${modelUuid} and name = ${name} returning 1`;
  if (deleted.length === 0) return false;
  await publish(tx, modelUuid, [meterStatusEvent(modelUuid, name, undefined)]);
  return true;
}

/** The model is gone: every unit's meter status and the model's row go with it. */
export async function removeModel(tx: Db, modelUuid: string): Promise<void> {
  const deleted = await tx<{ name: string }[]>`delete from meterstatus.unit where model_uuid = ${modelUuid}
    returning name`;
  await tx`delete from meterstatus.model where model_uuid = ${modelUuid}`;
  await publish(
    tx,
    modelUuid,
    deleted.map((r) => meterStatusEvent(modelUuid, r.name, undefined)),
  );
}
