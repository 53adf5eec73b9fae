/** The five meter status codes (spec §2), spelled as on the wire. */
export const MeterStatusCode = {
  NotSet: "NOT SET",
  NotAvailable: "NOT AVAILABLE",
  Green: "GREEN",
  Amber: "AMBER",
  Red: "RED",
} as const;

/** One of the five meter status codes. */
export type MeterStatusCode = (typeof MeterStatusCode)[keyof typeof MeterStatusCode];

/** A meter status: code and free-text info. */
export interface MeterStatus {
  code: MeterStatusCode;
  info: string;
}

/** The codes from most to least severe (rank 0 is the most severe). */
export const SEVERITY_ORDER: readonly MeterStatusCode[] = [
  MeterStatusCode.NotAvailable,
  MeterStatusCode.Red,
  MeterStatusCode.Amber,
  MeterStatusCode.NotSet,
  MeterStatusCode.Green,
];

/** Parses a code exactly and case-sensitively; anything else is NOT AVAILABLE. */
export function parseMeterStatusCode(input: string): MeterStatusCode {
  return (SEVERITY_ORDER as readonly string[]).includes(input) ? (input as MeterStatusCode) : "NOT AVAILABLE";
}

/** Severity rank of a code: 0 (NOT AVAILABLE) is the most severe, 4 (GREEN) the least. */
export function severity(code: MeterStatusCode): number {
  const rank = SEVERITY_ORDER.indexOf(code);
  return Math.max(rank, 0);
}

/** Whether `a` is strictly more severe than `b`. */
export function isMoreSevere(a: MeterStatusCode, b: MeterStatusCode): boolean {
  return severity(a) < severity(b);
}

/** combine(a, b): `a` only if strictly more severe than `b`, else `b` (a tie returns `b`, info included). */
export function combineMeterStatus(a: MeterStatus, b: MeterStatus): MeterStatus {
  return isMoreSevere(a.code, b.code) ? a : b;
}
