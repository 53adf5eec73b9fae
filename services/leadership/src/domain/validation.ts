// Input validation (spec §5): names and durations are checked on the caller's side, before a request
// reaches the manager loop, so the store never sees an invalid request.
import { LEADERSHIP_NAMESPACE, type Secretary } from "./types";

const applicationPattern = /^[a-z][a-z0-9]*(-[a-z0-9]*[a-z][a-z0-9]*)*$/;
const unitNumberPattern = /^(0|[1-9][0-9]*)$/;
const forbiddenHolderChars = /[.$# \t\r\n]/;

/** Juju's application name rule (`names.IsValidApplication`). */
export function isValidApplicationName(name: string): boolean {
  return applicationPattern.test(name);
}

/** Juju's unit name rule: `<application>/<n>`, n without a leading zero. */
export function isValidUnitName(name: string): boolean {
  const slash = name.lastIndexOf("/");
  if (slash < 0) return false;
  return isValidApplicationName(name.slice(0, slash)) && unitNumberPattern.test(name.slice(slash + 1));
}

/** The application part of a valid unit name. */
export function applicationOfUnit(unit: string): string {
  return unit.slice(0, unit.lastIndexOf("/"));
}

/** Validator of the `application-leadership` namespace: lease = application, holder = unit. */
export const leadershipSecretary: Secretary = {
  checkLease: (lease) => (isValidApplicationName(lease) ? undefined : "not an application name"),
  checkHolder: (holder) => (isValidUnitName(holder) ? undefined : "not a unit name"),
  checkDuration: (durationMs) => (durationMs > 0 ? undefined : "non-positive"),
};

/** The store's request rule for any namespace: non-empty names, no forbidden holder characters. */
export const genericSecretary: Secretary = {
  checkLease: (lease) => (lease === "" ? "string is empty" : undefined),
  checkHolder: (holder) => {
    if (holder === "") return "string is empty";
    return forbiddenHolderChars.test(holder) ? "string contains forbidden characters" : undefined;
  },
  checkDuration: (durationMs) => (durationMs > 0 ? undefined : "non-positive"),
};

/** The secretaries Concord runs with: application leadership only. */
export const defaultSecretaries: Readonly<Record<string, Secretary>> = {
  [LEADERSHIP_NAMESPACE]: leadershipSecretary,
};

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;
const NS_PER_MIN = 60n * NS_PER_S;
const NS_PER_H = 60n * NS_PER_MIN;

function withFraction(value: bigint, unit: bigint): string {
  const whole = value / unit;
  const rest = value % unit;
  if (rest === 0n) return `${whole}`;
  const digits = unit.toString().length - 1;
  return `${whole}.${rest.toString().padStart(digits, "0").replace(/0+$/, "")}`;
}

/** Formats milliseconds as Go's `time.Duration.String()` does ("0s", "-5s", "1m0s", "1.5s", "250ms"). */
export function formatGoDuration(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return "0s";
  const negative = ns < 0n;
  if (negative) ns = -ns;
  let text: string;
  if (ns < 1000n) text = `${ns}ns`;
  else if (ns < NS_PER_MS) text = `${withFraction(ns, 1000n)}µs`;
  else if (ns < NS_PER_S) text = `${withFraction(ns, NS_PER_MS)}ms`;
  else {
    const hours = ns / NS_PER_H;
    const minutes = (ns % NS_PER_H) / NS_PER_MIN;
    const seconds = `${withFraction(ns % NS_PER_MIN, NS_PER_S)}s`;
    if (hours > 0n) text = `${hours}h${minutes}m${seconds}`;
    else if (minutes > 0n) text = `${minutes}m${seconds}`;
    else text = seconds;
  }
  return negative ? `-${text}` : text;
}
