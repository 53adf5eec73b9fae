import { fail, RelationError } from "./errors";
import type { EndpointArg, EndpointIdentifier, Role } from "./types";

/**
 * Parses an endpoint identifier as a user typed it: `app` or `app:endpoint` (spec section 3.3). More than two
 * parts is a plain error; `app:` is an empty, not fully qualified endpoint name. No other syntax checks.
 */
export function parseEndpointArg(raw: string): EndpointArg {
  const parts = raw.split(":");
  if (parts.length > 2) {
    throw fail(
      "NotValid",
      `parsing endpoint identifier ${JSON.stringify(raw)}: expected endpoint of form <application-name>:<endpoint-name> or <application-name>`,
    );
  }
  return { application: parts[0]!, endpoint: parts[1] ?? "", raw };
}

/** `app:endpoint`. */
export function identifierString(id: { application: string; endpoint: string }): string {
  return `${id.application}:${id.endpoint}`;
}

const keyInvalid = (why: string) =>
  new RelationError("RelationKeyNotValid", `relation key not valid: ${why}`);

/**
 * Builds a relation key from its endpoint identifiers (spec section 3.2): one peer identifier, or one requirer
 * and one provider in any order, canonically requirer first. Anything else is RelationKeyNotValid.
 */
export function relationKey(ids: EndpointIdentifier[]): { key: string; endpoints: EndpointIdentifier[] } {
  if (ids.length === 1) {
    const [peer] = ids as [EndpointIdentifier];
    if (peer.role !== "peer") throw keyInvalid(`single endpoint ${identifierString(peer)} is not a peer`);
    checkIdentifier(peer);
    return { key: identifierString(peer), endpoints: [peer] };
  }
  if (ids.length === 2) {
    const requirer = ids.find((id) => id.role === "requirer");
    const provider = ids.find((id) => id.role === "provider");
    if (!requirer || !provider) throw keyInvalid("expected one requirer and one provider endpoint");
    checkIdentifier(requirer);
    checkIdentifier(provider);
    return {
      key: `${identifierString(requirer)} ${identifierString(provider)}`,
      endpoints: [requirer, provider],
    };
  }
  throw keyInvalid(`expected 1 or 2 endpoints, got ${ids.length}`);
}

function checkIdentifier(id: EndpointIdentifier): void {
  if (id.application === "" || id.endpoint === "")
    throw keyInvalid(`endpoint ${JSON.stringify(identifierString(id))} is not of the form app:endpoint`);
}

/**
 * Parses a key string: one token is a peer, two tokens are requirer then provider; each token must be exactly
 * `app:endpoint`.
 */
export function parseRelationKey(key: string): EndpointIdentifier[] {
  const tokens = key.split(/\s+/).filter((t) => t !== "");
  const forCount: Role[] | undefined =
    tokens.length === 1 ? ["peer"] : tokens.length === 2 ? ["requirer", "provider"] : undefined;
  if (!forCount) throw keyInvalid(`${JSON.stringify(key)} has ${tokens.length} endpoints`);
  return tokens.map((token, i) => {
    const parts = token.split(":");
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "")
      throw keyInvalid(`${JSON.stringify(token)} is not of the form app:endpoint`);
    return { application: parts[0]!, endpoint: parts[1]!, role: forCount[i]! };
  });
}
