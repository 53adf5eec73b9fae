import { type Entity, Life } from "@concord/proto/events/v1/events";
import { stringify } from "yaml";
import { compareUnits, table } from "../table";
import type { Format } from "../types";

/** A status value: `{current, message}`. */
export interface StatusValue {
  current: string;
  message: string;
}

/** The status of a model as `concord status` shows it. */
export interface StatusView {
  model: { name: string; uuid: string; life: string; controller: string; revision: number };
  applications: ApplicationStatus[];
  units: UnitStatus[];
  relations: RelationStatus[];
}

/** One application's line. */
export interface ApplicationStatus {
  name: string;
  life: string;
  status: StatusValue;
  subordinate: boolean;
  /** The unit holding the leadership lease; empty when none does. */
  leader: string;
  units: string[];
}

/** One unit's line. */
export interface UnitStatus {
  name: string;
  application: string;
  principal: string;
  life: string;
  workload: StatusValue;
  agent: StatusValue;
  leader: boolean;
  /** The unit's meter status as recorded (`NOT SET` until set). */
  meter: { code: string; info: string };
}

/** One relation's line. */
export interface RelationStatus {
  id: number;
  key: string;
  provider: string;
  requirer: string;
  interface: string;
  /** regular, peer or subordinate (container scope), as Juju calls them. */
  type: string;
  life: string;
  status: StatusValue;
  unitsInScope: string[];
  suspended: boolean;
}

/** Life as Juju spells it. */
export function lifeName(life: Life): string {
  return life === Life.DYING ? "dying" : life === Life.DEAD ? "dead" : "alive";
}

const status = (s: { current: string; message: string } | undefined): StatusValue => ({
  current: s?.current ?? "",
  message: s?.message ?? "",
});

/** Builds the status view from a model's entities (a WatchModel snapshot, or a cache kept from the stream). */
export function statusView(
  entities: Entity[],
  model: { name: string; uuid: string },
  controller: string,
  revision: bigint | undefined,
): StatusView {
  const view: StatusView = {
    model: { ...model, life: "alive", controller, revision: Number(revision ?? 0n) },
    applications: [],
    units: [],
    relations: [],
  };
  const leaders = new Map<string, string>();
  const meters = new Map<string, { code: string; info: string }>();
  for (const { kind } of entities) {
    if (kind.case === "leader") leaders.set(kind.value.application, kind.value.holder);
    if (kind.case === "meterStatus")
      meters.set(kind.value.unit, { code: kind.value.code, info: kind.value.info });
  }
  for (const { kind } of entities) {
    switch (kind.case) {
      case "model":
        view.model.name = kind.value.name || view.model.name;
        view.model.life = lifeName(kind.value.life);
        break;
      case "application":
        view.applications.push({
          name: kind.value.name,
          life: lifeName(kind.value.life),
          status: status(kind.value.status),
          subordinate: kind.value.subordinate,
          leader: leaders.get(kind.value.name) ?? "",
          units: [],
        });
        break;
      case "unit":
        view.units.push({
          name: kind.value.name,
          application: kind.value.application,
          principal: kind.value.principal,
          life: lifeName(kind.value.life),
          workload: status(kind.value.workloadStatus),
          agent: status(kind.value.agentStatus),
          leader: leaders.get(kind.value.application) === kind.value.name,
          meter: meters.get(kind.value.name) ?? { code: "NOT SET", info: "" },
        });
        break;
      case "relation": {
        const eps = kind.value.endpoints;
        const id = (role: string) => {
          const ep = eps.find((e) => e.role === role) ?? eps.find((e) => e.role === "peer") ?? eps[0];
          return ep ? `${ep.application}:${ep.name}` : "";
        };
        const peer = eps.length === 1 || eps.every((e) => e.role === "peer");
        view.relations.push({
          id: kind.value.relationId,
          key: kind.value.key,
          provider: id("provider"),
          requirer: id("requirer"),
          interface: eps[0]?.interface ?? "",
          type: peer ? "peer" : eps.some((e) => e.scope === "container") ? "subordinate" : "regular",
          life: lifeName(kind.value.life),
          status: status(kind.value.status),
          unitsInScope: [...kind.value.unitsInScope],
          suspended: kind.value.suspended,
        });
        break;
      }
    }
  }
  view.applications.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  view.units.sort((a, b) => compareUnits(a.name, b.name));
  view.relations.sort((a, b) => a.id - b.id);
  const apps = new Map(view.applications.map((a) => [a.name, a]));
  for (const u of view.units) apps.get(u.application)?.units.push(u.name);
  return view;
}

/** The meter status as model status shows it (meterstatus spec §7): a colour, or nothing for NOT SET/AVAILABLE. */
export function meterColour(code: string): string {
  return code === "GREEN" || code === "AMBER" || code === "RED" ? code.toLowerCase() : "";
}

// A life other than alive says more than any status: the entity is going away.
const shown = (life: string, s: StatusValue) => (life !== "alive" ? life : s.current || "unknown");

/** The Juju-like table of `concord status`. */
export function statusTable(view: StatusView): string {
  const out: string[] = [];
  const m = view.model;
  out.push(
    table([
      ["Model", "Controller", "Revision", ...(m.life !== "alive" ? ["Life"] : [])],
      [m.name, m.controller, String(m.revision), ...(m.life !== "alive" ? [m.life] : [])],
    ]),
  );
  if (view.applications.length === 0 && view.relations.length === 0) {
    out.push(`Model "${m.name}" is empty.`);
    return `${out.join("\n\n")}\n`;
  }
  out.push(
    table([
      ["App", "Status", "Units", "Leader", "Message"],
      ...view.applications.map((a) => [
        a.subordinate ? `${a.name} (subordinate)` : a.name,
        shown(a.life, a.status),
        String(a.units.length),
        a.leader,
        a.status.message,
      ]),
    ]),
  );
  if (view.units.length > 0) {
    out.push(
      table([
        ["Unit", "Workload", "Agent", "Meter", "Message"],
        ...view.units.map((u) => [
          `${u.name}${u.leader ? "*" : ""}`,
          shown(u.life, u.workload),
          u.agent.current || "unknown",
          meterColour(u.meter.code),
          u.workload.message,
        ]),
      ]),
    );
  }
  // Juju's meter section: the units whose meter status is shown, with its message.
  const metered = view.units.filter((u) => meterColour(u.meter.code));
  if (metered.length > 0) {
    out.push(
      table([
        ["Entity", "Meter status", "Message"],
        ...metered.map((u) => [u.name, meterColour(u.meter.code), u.meter.info]),
      ]),
    );
  }
  if (view.relations.length > 0) {
    out.push(
      table([
        ["Integration provider", "Requirer", "Interface", "Type", "Status", "Message"],
        ...view.relations.map((r) => [
          r.provider,
          r.requirer,
          r.interface,
          r.type,
          r.life !== "alive" ? r.life : r.suspended ? "suspended" : r.status.current || "unknown",
          r.status.message,
        ]),
      ]),
    );
  }
  return `${out.join("\n\n")}\n`;
}

/** The machine-readable status document (Juju's kebab-case keys; units nested under their application). */
export function statusDocument(view: StatusView): Record<string, unknown> {
  const units = new Map(view.units.map((u) => [u.name, u]));
  return {
    model: view.model,
    applications: Object.fromEntries(
      view.applications.map((a) => [
        a.name,
        {
          life: a.life,
          "application-status": a.status,
          subordinate: a.subordinate,
          leader: a.leader,
          units: Object.fromEntries(
            a.units.map((name) => {
              const u = units.get(name)!;
              return [
                name,
                {
                  life: u.life,
                  leader: u.leader,
                  "workload-status": u.workload,
                  "agent-status": u.agent,
                  "meter-status": u.meter,
                  ...(u.principal ? { principal: u.principal } : {}),
                },
              ];
            }),
          ),
        },
      ]),
    ),
    relations: view.relations.map((r) => ({
      id: r.id,
      key: r.key,
      provider: r.provider,
      requirer: r.requirer,
      interface: r.interface,
      type: r.type,
      life: r.life,
      status: r.status,
      suspended: r.suspended,
      "units-in-scope": r.unitsInScope,
    })),
  };
}

/** Any value in a machine-readable format: pretty JSON, YAML, or (compact) one JSON line. */
export function formatData(value: unknown, format: Exclude<Format, "tabular"> | "json-line"): string {
  if (format === "yaml") return stringify(value);
  if (format === "json-line") return `${JSON.stringify(value)}\n`;
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The status in the chosen format. */
export function formatStatus(view: StatusView, format: Format): string {
  return format === "tabular" ? statusTable(view) : formatData(statusDocument(view), format);
}
