import { MultiwatcherError } from "./errors";
import type { EntityKey, Scope } from "./types";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `uuid` is a valid model UUID (8-4-4-4-12 hexadecimal). */
export function isValidModelUUID(uuid: string): boolean {
  return uuidPattern.test(uuid);
}

/** The scope of one model; fails with NotValid (INVALID_ARGUMENT) for a malformed UUID (spec §7). */
export function modelScope(modelUUID: string): Scope {
  if (!isValidModelUUID(modelUUID)) {
    throw new MultiwatcherError("NotValid", `model UUID ${JSON.stringify(modelUUID)} not valid`);
  }
  return { type: "model", modelUUID };
}

/** The controller scope (every model). */
export const controllerScope: Scope = { type: "controller" };

/** Parses "controller" or "model:<uuid>"; anything else fails with NotValid (INVALID_ARGUMENT). */
export function parseScope(text: string): Scope {
  if (text === "controller") return controllerScope;
  if (text.startsWith("model:")) return modelScope(text.slice("model:".length));
  throw new MultiwatcherError(
    "NotValid",
    `scope ${JSON.stringify(text)} not valid: want "controller" or "model:<uuid>"`,
  );
}

/** True when the entity belongs to the scope; the filter looks only at the model UUID (spec §7). */
export function inScope(scope: Scope, key: EntityKey): boolean {
  return scope.type === "controller" || key.modelUUID === scope.modelUUID;
}

/** Checks a scope built by hand (for example decoded from a request). */
export function validateScope(scope: Scope): Scope {
  return scope.type === "controller" ? controllerScope : modelScope(scope.modelUUID);
}
