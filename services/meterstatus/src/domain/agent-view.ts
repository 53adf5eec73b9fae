import { MeterStatusError } from "./errors";
import { type MeterStatus, MeterStatusCode } from "./meter-status";

/** What an agent's GetMeterStatus returns: NOT SET → AMBER "not set", NOT AVAILABLE → RED "not available". */
export function toAgentMeterStatus(status: MeterStatus): MeterStatus {
  if (status.code === MeterStatusCode.NotSet) return { code: MeterStatusCode.Amber, info: "not set" };
  if (status.code === MeterStatusCode.NotAvailable)
    return { code: MeterStatusCode.Red, info: "not available" };
  return { code: status.code, info: status.info };
}

/** The authenticated caller of the agent-facing API. */
export type MeterStatusCaller =
  | { kind: "unit"; unitName: string }
  | { kind: "application"; applicationName: string }
  | { kind: "machine" | "controller" | "user"; name: string };

/** A unit agent may read only itself; an application agent any unit of its application (spec §6). */
export function canAccessMeterStatus(caller: MeterStatusCaller, unitName: string): boolean {
  if (caller.kind === "unit") return caller.unitName === unitName;
  if (caller.kind === "application")
    return unitName.slice(0, unitName.lastIndexOf("/")) === caller.applicationName;
  return false;
}

/** Throws `Unauthorized` ("permission denied") unless {@link canAccessMeterStatus}. */
export function authorizeMeterStatusAccess(caller: MeterStatusCaller, unitName: string): void {
  if (!canAccessMeterStatus(caller, unitName))
    throw new MeterStatusError("Unauthorized", "permission denied");
}
