import { MeterStatusError } from "./errors";
import { type MeterStatus, MeterStatusCode, parseMeterStatusCode } from "./meter-status";

/** A code SetMeterStatus accepts. */
export type SettableMeterStatusCode = "GREEN" | "AMBER" | "RED";

/** A unit's life, as far as SetMeterStatus cares. */
export type Life = "alive" | "dying" | "dead";

/** Accepts only GREEN, AMBER or RED (exact case); anything else fails with `meter status "<input>" not valid`. */
export function validateMeterStatusCode(input: string): SettableMeterStatusCode {
  const code = parseMeterStatusCode(input);
  if (code === MeterStatusCode.Green || code === MeterStatusCode.Amber || code === MeterStatusCode.Red)
    return code;
  throw new MeterStatusError("NotValid", `meter status ${JSON.stringify(input)} not valid`);
}

/**
 * SetMeterStatus on a unit (spec §3): the new status to store, or undefined when code and info are unchanged.
 * The caller runs this and the write in one transaction with the unit's life read in it.
 */
export function planUnitMeterStatus(
  unit: { name: string; life: Life },
  current: MeterStatus,
  code: string,
  info: string,
): MeterStatus | undefined {
  const valid = validateMeterStatusCode(code);
  if (current.code === valid && current.info === info) return undefined;
  if (unit.life !== "alive") {
    throw new MeterStatusError(
      "UnitNotAlive",
      `cannot set meter status for unit ${unit.name}: unit is not alive`,
    );
  }
  return { code: valid, info };
}

/** Sets a model's own meter status (same validation); undefined when unchanged. Not folded into units' status. */
export function planModelMeterStatus(
  current: MeterStatus,
  code: string,
  info: string,
): MeterStatus | undefined {
  const valid = validateMeterStatusCode(code);
  if (current.code === valid && current.info === info) return undefined;
  return { code: valid, info };
}

/** The meter status a new unit or model starts with: NOT SET, empty info. */
export function initialMeterStatus(): MeterStatus {
  return { code: MeterStatusCode.NotSet, info: "" };
}
