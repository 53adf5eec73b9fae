import type { MeterStatus } from "./meter-status";

/** A unit's meter status as shown in model status. */
export interface MeterStatusDisplay {
  color: "green" | "amber" | "red";
  message: string;
}

/** Shown only for GREEN, AMBER and RED, as the lower-case colour with the info (controller-side status, spec §7). */
export function meterStatusDisplay(status: MeterStatus): MeterStatusDisplay | undefined {
  switch (status.code) {
    case "GREEN":
      return { color: "green", message: status.info };
    case "AMBER":
      return { color: "amber", message: status.info };
    case "RED":
      return { color: "red", message: status.info };
    default:
      return undefined;
  }
}
