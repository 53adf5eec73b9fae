import { fail, RelationError } from "./errors";
import { identifierString } from "./identifier";
import type { ApplicationEndpoint, ApplicationForInference, EndpointArg, Role } from "./types";

const counterpart: Record<Role, Role | undefined> = {
  provider: "requirer",
  requirer: "provider",
  peer: undefined,
};

/** Section 4: whether endpoint a can relate to endpoint b (scope aside). */
export function canRelate(a: ApplicationEndpoint, b: ApplicationEndpoint): boolean {
  return (
    a.application !== b.application &&
    a.interface === b.interface &&
    a.role !== "peer" &&
    counterpart[a.role] === b.role
  );
}

/** The relation's scope: container if either endpoint is container-scoped. */
export function relationScope(a: { scope: string }, b?: { scope: string }): "global" | "container" {
  return a.scope === "container" || b?.scope === "container" ? "container" : "global";
}

function candidates(app: ApplicationForInference | undefined, arg: EndpointArg): ApplicationEndpoint[] {
  if (!app) return [];
  return app.endpoints
    .filter((ep) => arg.endpoint === "" || ep.name === arg.endpoint)
    .map((ep) => ({ ...ep, application: app.name }));
}

/**
 * Infers the one pair of endpoints two user identifiers name (spec section 5.3): RelationEndpointNotFound when
 * a side has no candidates, CompatibleEndpointsNotFound when no pair can relate, AmbiguousRelation when several
 * can. Errors are wrapped as `cannot relate endpoints "<id1>" and "<id2>"`.
 */
export function inferEndpoints(
  arg1: EndpointArg,
  app1: ApplicationForInference | undefined,
  arg2: EndpointArg,
  app2: ApplicationForInference | undefined,
): [ApplicationEndpoint, ApplicationEndpoint] {
  try {
    const c1 = candidates(app1, arg1);
    const c2 = candidates(app2, arg2);
    if (c1.length === 0 && c2.length === 0)
      throw fail("RelationEndpointNotFound", `no candidates for ${arg1.raw} and ${arg2.raw}`);
    if (c1.length === 0) throw fail("RelationEndpointNotFound", `no candidates for ${arg1.raw}`);
    if (c2.length === 0) throw fail("RelationEndpointNotFound", `no candidates for ${arg2.raw}`);
    const subordinate = !!app1?.subordinate || !!app2?.subordinate;
    const pairs: [ApplicationEndpoint, ApplicationEndpoint][] = [];
    for (const a of c1) {
      for (const b of c2) {
        if (relationScope(a, b) === "container" && !subordinate) continue;
        if (canRelate(a, b)) pairs.push([a, b]);
      }
    }
    if (pairs.length === 0)
      throw fail(
        "CompatibleEndpointsNotFound",
        `no compatible endpoints between ${arg1.raw} and ${arg2.raw}`,
      );
    if (pairs.length > 1) {
      const list = pairs.map(
        ([a, b]) =>
          `"${identifierString({ application: a.application, endpoint: a.name })} ${identifierString({ application: b.application, endpoint: b.name })}"`,
      );
      throw fail("AmbiguousRelation", `"${arg1.raw} ${arg2.raw}" could refer to ${list.join("; ")}`);
    }
    return pairs[0]!;
  } catch (err) {
    if (err instanceof RelationError)
      throw err.wrap(`cannot relate endpoints "${arg1.raw}" and "${arg2.raw}"`);
    throw err;
  }
}
