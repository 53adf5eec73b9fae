import { MeterStatusError } from "./errors";
import { combineMeterStatus, type MeterStatus, MeterStatusCode } from "./meter-status";

/** The controller's answer for one unit: the status, plus the error that made it NOT AVAILABLE if any. */
export interface EffectiveMeterStatus {
  status: MeterStatus;
  error?: Error;
}

/**
 * A unit's effective meter status (spec §5). `metricsManager` is the computed metrics-manager status or the
 * error computing it; `unit` the unit's own status, undefined when the unit is gone.
 */
export function unitEffectiveMeterStatus(input: {
  unitName: string;
  metricsManager: MeterStatus | Error;
  unit: MeterStatus | undefined;
}): EffectiveMeterStatus {
  const mm = input.metricsManager;
  if (mm instanceof Error) return { status: notAvailable(), error: mm };
  // A RED metrics manager wins outright, its info too, even over a RED unit.
  if (mm.code === MeterStatusCode.Red) return { status: mm };
  if (!input.unit) {
    return {
      status: notAvailable(),
      error: new MeterStatusError(
        "NotFound",
        `cannot retrieve meter status for unit ${input.unitName}: not found`,
      ),
    };
  }
  return { status: combineMeterStatus(mm, input.unit) };
}

function notAvailable(): MeterStatus {
  return { code: MeterStatusCode.NotAvailable, info: "" };
}
