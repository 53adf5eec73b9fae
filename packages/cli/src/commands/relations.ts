import {
  EndpointRole,
  EndpointScope,
  type Relation,
  RelationService,
  RelationStatus,
} from "@concord/proto/relation/v1/relation";
import { usageError } from "../errors";
import { formatData, lifeName } from "../status/status-view";
import { table } from "../table";
import type { Command } from "../types";

const IDENTIFIER = /^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)?$/;

function checkIdentifiers(args: string[]): void {
  for (const a of args)
    if (!IDENTIFIER.test(a))
      throw usageError(
        `"${a}" is not an endpoint`,
        "name an endpoint as <application> or <application>:<endpoint>",
      );
}

/** `concord integrate <app>[:<endpoint>] <app>[:<endpoint>]`. */
export const integrate: Command = {
  name: "integrate",
  summary: "Relate two applications",
  usage: "integrate <application>[:<endpoint>] <application>[:<endpoint>] [--via <cidr,...>]",
  description:
    "Adds a relation between two applications (Juju's `integrate`, formerly `add-relation`). Endpoints left " +
    "out are inferred: exactly one provider/requirer pair of the same interface must fit, else name them.",
  options: { via: { type: "string" } },
  args: [2, 2],
  async run({ io, args, flags, session }) {
    checkIdentifiers(args);
    const model = await session.model();
    const { relation } = await session.client(RelationService).addRelation({
      modelUuid: model.uuid,
      endpoint1: args[0]!,
      endpoint2: args[1]!,
      viaCidrs: typeof flags.via === "string" ? flags.via.split(",").map((s) => s.trim()) : [],
    });
    io.stdout.write(`Integrated ${relation!.key} (relation ${relation!.id}).\n`);
    return 0;
  },
};

/** `concord remove-relation`. */
export const removeRelation: Command = {
  name: "remove-relation",
  summary: "Remove a relation",
  usage: "remove-relation (<application>[:<endpoint>] <application>[:<endpoint>] | <relation-id>) [--force]",
  description:
    "Marks the relation dying; it is removed once no unit is in its scope (at once when none is). --force " +
    "evicts the units still in scope and removes it now. Peer relations cannot be removed.",
  options: { force: { type: "boolean" } },
  args: [1, 2],
  async run({ io, args, flags, session }) {
    const byId = args.length === 1 && /^\d+$/.test(args[0]!);
    if (!byId) checkIdentifiers(args);
    const model = await session.model();
    const relations = session.client(RelationService);
    const { relationUuid } = await relations.getRelationUUIDForRemoval({
      modelUuid: model.uuid,
      endpoints: byId ? [] : args,
      relationId: byId ? Number(args[0]) : 0,
    });
    await relations.removeRelation({ modelUuid: model.uuid, relationUuid, force: flags.force === true });
    io.stdout.write(`Removing relation ${args.join(" ")}.\n`);
    return 0;
  },
};

const STATUS: Record<number, string> = {
  [RelationStatus.JOINING]: "joining",
  [RelationStatus.JOINED]: "joined",
  [RelationStatus.BROKEN]: "broken",
  [RelationStatus.SUSPENDING]: "suspending",
  [RelationStatus.SUSPENDED]: "suspended",
  [RelationStatus.ERROR]: "error",
};

function describe(r: Relation) {
  const ep = (role: EndpointRole) => {
    const e = r.endpoints.find((x) => x.role === role) ?? r.endpoints[0];
    return e ? `${e.application}:${e.name}` : "";
  };
  const peer = r.endpoints.length === 1;
  return {
    id: r.id,
    key: r.key,
    provider: ep(peer ? EndpointRole.PEER : EndpointRole.PROVIDER),
    requirer: ep(peer ? EndpointRole.PEER : EndpointRole.REQUIRER),
    interface: r.endpoints[0]?.interface ?? "",
    type: peer ? "peer" : r.scope === EndpointScope.CONTAINER ? "subordinate" : "regular",
    life: lifeName(r.life),
    status: { current: STATUS[r.status] ?? "unknown", message: r.statusMessage },
    suspended: r.suspended,
    "units-in-scope": r.unitsInScope,
  };
}

/** `concord relations [<application>]`. */
export const relations: Command = {
  name: "relations",
  summary: "List the model's relations",
  usage: "relations [<application>] [--format tabular|json|yaml]",
  description:
    "Lists the relations of the model, or of one application, with their status and units in scope.",
  args: [0, 1],
  formats: true,
  async run({ io, args, session, format }) {
    const model = await session.model();
    const res = await session
      .client(RelationService)
      .listRelations({ modelUuid: model.uuid, application: args[0] ?? "" });
    const rows = res.relations.map(describe).sort((a, b) => a.id - b.id);
    if (format !== "tabular") io.stdout.write(formatData(rows, format));
    else if (rows.length === 0) io.stdout.write(`No relations in model "${model.name}".\n`);
    else
      io.stdout.write(
        `${table([
          ["Id", "Provider", "Requirer", "Interface", "Type", "Status", "Units in scope"],
          ...rows.map((r) => [
            String(r.id),
            r.provider,
            r.requirer,
            r.interface,
            r.type,
            r.life !== "alive" ? r.life : r.status.current,
            r["units-in-scope"].join(",") || "-",
          ]),
        ])}\n`,
      );
    return 0;
  },
};
