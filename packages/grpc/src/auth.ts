import { jwtVerify, SignJWT } from "jose";
import { ConcordError, errors } from "./errors";

/** Who is calling: the controller's administrator, one unit's agent, or one application's agent. */
export type Identity =
  | { kind: "anonymous"; tag: "anonymous" }
  | { kind: "admin"; tag: "admin" }
  | { kind: "unit"; tag: string; unit: string; application: string }
  | { kind: "application"; tag: string; application: string };

const APP = "[a-z][a-z0-9]*(?:-[a-z0-9]+)*";
const UNIT_TAG = new RegExp(`^unit-(${APP})-(0|[1-9][0-9]*)$`);
const APP_TAG = new RegExp(`^application-(${APP})$`);
const ISSUER = "concord-controller";

/** Parses a Juju-style tag (`admin`, `unit-<app>-<n>`, `application-<app>`) into an identity. */
export function parseTag(tag: string): Identity {
  if (tag === "admin") return { kind: "admin", tag };
  const unit = UNIT_TAG.exec(tag);
  if (unit) return { kind: "unit", tag, unit: `${unit[1]}/${unit[2]}`, application: unit[1]! };
  const app = APP_TAG.exec(tag);
  if (app) return { kind: "application", tag, application: app[1]! };
  throw errors.invalidArgument(
    "NotValid",
    `identity ${JSON.stringify(tag)} is not valid: use admin, unit-<app>-<n> or application-<app>`,
  );
}

/** The tag of a unit's agent: `wordpress/0` → `unit-wordpress-0`. */
export function unitTag(unitName: string): string {
  return `unit-${unitName.replace("/", "-")}`;
}

/** Signs and verifies the controller's bearer tokens (HS256 JWTs whose subject is the identity's tag). */
export class TokenAuthority {
  readonly #key: Uint8Array;
  constructor(secret: string) {
    if (secret.length < 16) throw new Error("the token secret must be at least 16 characters");
    this.#key = new TextEncoder().encode(secret);
  }

  /** Issues a token for a tag; `ttlSeconds` 0 = no expiry. */
  async issue(tag: string, ttlSeconds = 0): Promise<string> {
    parseTag(tag);
    let jwt = new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(tag)
      .setIssuer(ISSUER)
      .setIssuedAt();
    if (ttlSeconds > 0) jwt = jwt.setExpirationTime(`${ttlSeconds}s`);
    return jwt.sign(this.#key);
  }

  /** Verifies a token and returns its identity; any defect is UNAUTHENTICATED. */
  async verify(token: string): Promise<Identity> {
    try {
      const { payload } = await jwtVerify(token, this.#key, { issuer: ISSUER, algorithms: ["HS256"] });
      if (typeof payload.sub !== "string") throw new Error("token has no subject");
      return parseTag(payload.sub);
    } catch (err) {
      throw errors.unauthenticated(`invalid token: ${(err as Error).message}`);
    }
  }
}

/** Rules handlers use to authorize a caller; each throws PERMISSION_DENIED with a message naming what was refused. */
export const authorize = {
  /** Only the administrator. */
  admin(id: Identity, what: string): void {
    if (id.kind !== "admin") throw errors.permissionDenied(`${id.tag} may not ${what}: only admin may`);
  },
  /** The administrator or the agent of this unit. */
  unitOrAdmin(id: Identity, unit: string, what: string): void {
    if (id.kind === "admin" || (id.kind === "unit" && id.unit === unit)) return;
    throw errors.permissionDenied(`${id.tag} may not ${what} for unit ${unit}`);
  },
  /** Only the agent of this unit (admin too when `adminToo`). */
  unit(id: Identity, unit: string, what: string, adminToo = false): void {
    if (id.kind === "unit" && id.unit === unit) return;
    if (adminToo && id.kind === "admin") return;
    throw errors.permissionDenied(`${id.tag} may not ${what} for unit ${unit}: only that unit's agent may`);
  },
  /** The administrator, or an agent of the application (its application agent or one of its units). */
  applicationOrAdmin(id: Identity, application: string, what: string): void {
    if (id.kind === "admin") return;
    if ((id.kind === "unit" || id.kind === "application") && id.application === application) return;
    throw errors.permissionDenied(`${id.tag} may not ${what} for application ${application}`);
  },
};

/** The bearer token in an `authorization` metadata value, or undefined. */
export function bearerToken(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(value.trim());
  return m?.[1];
}

export { ConcordError };
