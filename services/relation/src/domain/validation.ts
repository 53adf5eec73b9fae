import { fail } from "./errors";
import type { Base, Endpoint } from "./types";

const APP = "[a-z][a-z0-9]*(?:-[a-z0-9]+)*";
const APP_RE = new RegExp(`^${APP}$`);
const UNIT_RE = new RegExp(`^(${APP})/(0|[1-9][0-9]*)$`);
const ENDPOINT_RE = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MODEL_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Whether the string is a UUID in its canonical textual form. */
export function isUUID(value: string): boolean {
  return UUID_RE.test(value);
}

/** Checks a relation UUID's syntax (RelationUUIDNotValid). */
export function validateRelationUUID(uuid: string): void {
  if (!isUUID(uuid)) throw fail("RelationUUIDNotValid", `relation uuid ${JSON.stringify(uuid)} is not valid`);
}

/** Checks an application UUID's syntax (ApplicationUUIDNotValid). */
export function validateApplicationUUID(uuid: string): void {
  if (!isUUID(uuid))
    throw fail("ApplicationUUIDNotValid", `application uuid ${JSON.stringify(uuid)} is not valid`);
}

/** Checks a model UUID's syntax (NotValid). */
export function validateModelUUID(uuid: string): void {
  if (!isUUID(uuid)) throw fail("NotValid", `model uuid ${JSON.stringify(uuid)} is not valid`);
}

/** Checks a model name (NotValid). */
export function validateModelName(name: string): void {
  if (!MODEL_RE.test(name)) throw fail("NotValid", `model name ${JSON.stringify(name)} is not valid`);
}

/** Checks an application name (NotValid). */
export function validateApplicationName(name: string): void {
  if (!APP_RE.test(name)) throw fail("NotValid", `application name ${JSON.stringify(name)} is not valid`);
}

/** Checks a unit name `app/N` (InvalidUnitName) and returns its application's name. */
export function validateUnitName(name: string): string {
  const m = UNIT_RE.exec(name);
  if (!m) throw fail("InvalidUnitName", `unit name ${JSON.stringify(name)} is not valid`);
  return m[1]!;
}

/** The application part of a valid unit name. */
export function applicationOfUnit(unitName: string): string {
  return unitName.slice(0, unitName.lastIndexOf("/"));
}

/** Parses `os@track[/risk]` (NotValid); the empty string is "no base". */
export function parseBase(text: string): Base | undefined {
  if (text === "") return undefined;
  const m = /^([a-z][a-z0-9-]*)@([^/@\s]+)(?:\/([^/@\s]+))?$/.exec(text);
  if (!m) throw fail("NotValid", `base ${JSON.stringify(text)} is not valid: use os@track[/risk]`);
  return { os: m[1]!, track: m[2]!, risk: m[3] ?? "" };
}

/** `os@track[/risk]` again. */
export function formatBase(base: Base | undefined): string {
  if (!base) return "";
  return `${base.os}@${base.track}${base.risk ? `/${base.risk}` : ""}`;
}

/** Juju's base compatibility: same OS and same channel track; the risk is ignored. */
export function basesCompatible(a: Base | undefined, b: Base | undefined): boolean {
  return !!a && !!b && a.os === b.os && a.track === b.track;
}

/** Checks a charm's endpoints: names valid and unique, interface set, limit not negative (NotValid). */
export function validateEndpoints(endpoints: Endpoint[]): void {
  const seen = new Set<string>();
  for (const ep of endpoints) {
    if (!ENDPOINT_RE.test(ep.name))
      throw fail("NotValid", `endpoint name ${JSON.stringify(ep.name)} is not valid`);
    if (seen.has(ep.name)) throw fail("NotValid", `endpoint ${JSON.stringify(ep.name)} is declared twice`);
    seen.add(ep.name);
    if (ep.interface === "") throw fail("NotValid", `endpoint ${JSON.stringify(ep.name)} has no interface`);
    if (!Number.isInteger(ep.capacity) || ep.capacity < 0)
      throw fail("NotValid", `endpoint ${JSON.stringify(ep.name)} has a negative limit`);
  }
}

/** The implicit `juju-info` provider endpoint every charm gets unless it declares one of that name. */
export function withImplicitJujuInfo(endpoints: Endpoint[]): Endpoint[] {
  if (endpoints.some((ep) => ep.name === "juju-info")) return endpoints;
  return [
    ...endpoints,
    {
      name: "juju-info",
      role: "provider",
      interface: "juju-info",
      scope: "global",
      capacity: 0,
      optional: false,
    },
  ];
}

/** Checks one CIDR (IPv4 or IPv6, with a prefix length) for `integrate --via` (NotValid). */
export function validateCIDR(cidr: string): void {
  const bad = () => fail("NotValid", `CIDR ${JSON.stringify(cidr)} is not valid`);
  const slash = cidr.indexOf("/");
  if (slash < 0) throw bad();
  const addr = cidr.slice(0, slash);
  const prefix = cidr.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix)) throw bad();
  const bits = Number(prefix);
  if (isIPv4(addr)) {
    if (bits > 32) throw bad();
  } else if (isIPv6(addr)) {
    if (bits > 128) throw bad();
  } else throw bad();
}

function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return false;
  const double = s.split("::");
  if (double.length > 2) return false;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const all = [...groups(double[0]!), ...(double.length === 2 ? groups(double[1]!) : [])];
  let count = 0;
  for (const [i, g] of all.entries()) {
    if (i === all.length - 1 && g.includes(".")) {
      if (!isIPv4(g)) return false;
      count += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) count += 1;
    else return false;
  }
  return double.length === 2 ? count < 8 : count === 8;
}
