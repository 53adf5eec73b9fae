import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CharmEndpointSchema, EndpointRole, EndpointScope } from "@concord/proto/relation/v1/relation";
import { parse } from "yaml";
import { usageError } from "./errors";

/** A charm endpoint as DeployApplication takes it. */
export type CharmEndpointInit = MessageInitShape<typeof CharmEndpointSchema>;

/** What `deploy` takes from a charm's metadata.yaml. */
export interface CharmRelationMetadata {
  /** The charm's `name`, when it has one. */
  name?: string;
  subordinate: boolean;
  /** The provides, requires and peers endpoints, in file order. */
  endpoints: CharmEndpointInit[];
}

const SECTIONS = [
  ["provides", EndpointRole.PROVIDER],
  ["requires", EndpointRole.REQUIRER],
  ["peers", EndpointRole.PEER],
] as const;

/**
 * Reads the relation sections of a charm's metadata.yaml: `provides`, `requires` and `peers`, each mapping an
 * endpoint name to `{interface, scope?, limit?, optional?}` or to its interface alone. Mistakes are usage errors
 * naming the file and the field.
 */
export function parseMetadata(text: string, file = "metadata.yaml"): CharmRelationMetadata {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw usageError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isMap(doc)) throw usageError(`${file} must be a YAML mapping (a charm's metadata.yaml)`);
  const bad = (what: string) =>
    usageError(`${file}: ${what}`, "see a charm's metadata.yaml: provides/requires/peers");
  if (doc.subordinate !== undefined && typeof doc.subordinate !== "boolean")
    throw bad("`subordinate` must be true or false");
  const seen = new Set<string>();
  const endpoints: CharmEndpointInit[] = [];
  for (const [section, role] of SECTIONS) {
    const entries = doc[section];
    if (entries === undefined || entries === null) continue;
    if (!isMap(entries)) throw bad(`\`${section}\` must map endpoint names to their interface`);
    for (const [name, value] of Object.entries(entries)) {
      const where = `${section}.${name}`;
      if (seen.has(name)) throw bad(`endpoint "${name}" is declared twice`);
      seen.add(name);
      const spec = typeof value === "string" ? { interface: value } : value;
      if (!isMap(spec)) throw bad(`${where} must be an interface name or a mapping with \`interface\``);
      if (typeof spec.interface !== "string" || spec.interface === "")
        throw bad(`${where}.interface is missing`);
      let scope = EndpointScope.GLOBAL;
      if (spec.scope !== undefined) {
        if (spec.scope === "container") scope = EndpointScope.CONTAINER;
        else if (spec.scope !== "global") throw bad(`${where}.scope must be global or container`);
      }
      const limit = spec.limit ?? 0;
      if (!(Number.isInteger(limit) && (limit as number) >= 0 && (limit as number) <= 2 ** 31 - 1))
        throw bad(`${where}.limit must be a whole number ≥ 0`);
      if (spec.optional !== undefined && typeof spec.optional !== "boolean")
        throw bad(`${where}.optional must be true or false`);
      endpoints.push({
        name,
        role,
        interface: spec.interface,
        scope,
        limit: limit as number,
        optional: spec.optional === true,
      });
    }
  }
  return {
    ...(typeof doc.name === "string" ? { name: doc.name } : {}),
    subordinate: doc.subordinate === true,
    endpoints,
  };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
