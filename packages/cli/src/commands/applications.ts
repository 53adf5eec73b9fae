import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Code, ConcordError } from "@concord/grpc";
import { ApplicationService, EndpointRole } from "@concord/proto/relation/v1/relation";
import { usageError } from "../errors";
import { type CharmRelationMetadata, parseMetadata } from "../metadata";
import type { Session } from "../session";
import type { Command } from "../types";

const ROLE: Record<number, string> = {
  [EndpointRole.PROVIDER]: "provides",
  [EndpointRole.REQUIRER]: "requires",
  [EndpointRole.PEER]: "peers",
};

/** A whole number of units from a flag. */
function count(text: string | boolean | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(typeof text === "string" && /^\d+$/.test(text) && n <= 1000))
    throw usageError(`${flag} must be a whole number`);
  return n;
}

/** `concord deploy <application> [--endpoints <metadata.yaml>]`. */
export const deploy: Command = {
  name: "deploy",
  summary: "Deploy an application from a charm's relation metadata",
  usage: "deploy <application> [--endpoints <metadata.yaml>] [-n <units>] [--base <os@track>]",
  description:
    "Creates the application with the endpoints of the `provides`, `requires` and `peers` sections of a " +
    "charm's metadata.yaml (each endpoint an interface name, or {interface, scope, limit, optional}); " +
    "`subordinate: true` in the file deploys a subordinate. Every application also gets the implicit " +
    "`juju-info` endpoint, and each peer endpoint its peer relation. Like `juju deploy`, it adds one unit " +
    "(none for a subordinate) unless -n says otherwise.",
  options: {
    endpoints: { type: "string" },
    "num-units": { type: "string", short: "n" },
    base: { type: "string" },
  },
  args: [1, 1],
  async run({ io, args, flags, session }) {
    const name = args[0]!;
    let meta: CharmRelationMetadata = { subordinate: false, endpoints: [] };
    if (typeof flags.endpoints === "string") {
      const file = resolve(io.cwd, flags.endpoints);
      const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
        throw usageError(
          `cannot read ${flags.endpoints}: ${err.code === "ENOENT" ? "no such file" : err.message}`,
        );
      });
      meta = parseMetadata(text, flags.endpoints);
    }
    const units = count(flags["num-units"], meta.subordinate ? 0 : 1, "--num-units");
    const { model, apps } = await withModel(session);
    const res = await apps.deployApplication({
      modelUuid: model.uuid,
      name,
      subordinate: meta.subordinate,
      base: typeof flags.base === "string" ? flags.base : "",
      endpoints: meta.endpoints,
    });
    const eps = res.application!.endpoints.map((e) => `${e.name} (${ROLE[e.role] ?? "?"} ${e.interface})`);
    io.stdout.write(`Deployed "${name}" in model "${model.name}" with endpoints ${eps.join(", ")}.\n`);
    for (const r of res.peerRelations) io.stdout.write(`Added peer relation ${r.key} (id ${r.id}).\n`);
    for (let i = 0; i < units; i++) {
      const { unit } = await apps.addUnit({ modelUuid: model.uuid, application: name });
      io.stdout.write(`Added unit ${unit!.name}.\n`);
    }
    return 0;
  },
};

/** `concord add-unit <application> [-n <units>]`. */
export const addUnit: Command = {
  name: "add-unit",
  summary: "Add units to an application",
  usage: "add-unit <application> [-n <units>]",
  description:
    "Adds the application's next units (`app/N`, numbers never reused); one unless -n says otherwise.",
  options: { "num-units": { type: "string", short: "n" } },
  args: [1, 1],
  async run({ io, args, flags, session }) {
    const n = count(flags["num-units"], 1, "--num-units");
    if (n < 1) throw usageError("--num-units must be at least 1");
    const { model, apps } = await withModel(session);
    for (let i = 0; i < n; i++) {
      const { unit } = await apps.addUnit({ modelUuid: model.uuid, application: args[0]! });
      io.stdout.write(`Added unit ${unit!.name}.\n`);
    }
    return 0;
  },
};

/** `concord remove-unit <unit>...`. */
export const removeUnit: Command = {
  name: "remove-unit",
  summary: "Remove units",
  usage: "remove-unit <unit> [<unit>...]",
  description:
    "Marks each unit dying. A unit in no relation scope is then removed at once (as Juju removes a unit whose " +
    "agent never started); one still in a scope stays dying until its agent has left every scope.",
  args: [1, Number.POSITIVE_INFINITY],
  async run({ io, args, session }) {
    for (const name of args) {
      if (!/^[a-z][a-z0-9-]*\/\d+$/.test(name))
        throw usageError(
          `"${name}" is not a unit name`,
          "name units as <application>/<number>, e.g. wordpress/0",
        );
    }
    const { model, apps } = await withModel(session);
    for (const name of args) {
      await apps.removeUnit({ modelUuid: model.uuid, name });
      try {
        await apps.ensureUnitDead({ modelUuid: model.uuid, name });
        io.stdout.write(`Removed unit ${name}.\n`);
      } catch (err) {
        if (!(err instanceof ConcordError && err.code === Code.FAILED_PRECONDITION)) throw err;
        io.stdout.write(
          `Unit ${name} is dying: ${err.message}; it goes once its agent has left every scope.\n`,
        );
      }
    }
    return 0;
  },
};

async function withModel(session: Session) {
  const apps = session.client(ApplicationService);
  return { model: await session.model(), apps };
}
