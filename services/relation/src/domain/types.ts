// The relation domain's vocabulary as plain types: no gRPC, no SQL.

/** Juju's life cycle. */
export type Life = "alive" | "dying" | "dead";

/** An endpoint's role, from the charm metadata section it is declared in. */
export type Role = "provider" | "requirer" | "peer";

/** Where an endpoint's (or a relation's) counterparts are. */
export type Scope = "global" | "container";

/** A relation's status values, in Juju's order. */
export const RELATION_STATUSES = ["joining", "joined", "broken", "suspending", "suspended", "error"] as const;

/** A relation's status. */
export type RelationStatus = (typeof RELATION_STATUSES)[number];

/** A charm endpoint instantiated on an application. */
export interface Endpoint {
  name: string;
  role: Role;
  interface: string;
  scope: Scope;
  /** The charm's `limit`; 0 = unlimited. */
  capacity: number;
  optional: boolean;
}

/** What inference needs to know about an application. */
export interface ApplicationForInference {
  name: string;
  subordinate: boolean;
  endpoints: Endpoint[];
}

/** An endpoint of one application, as inference pairs them. */
export interface ApplicationEndpoint extends Endpoint {
  application: string;
}

/** `app:endpoint` with the endpoint's role: one part of a relation key. */
export interface EndpointIdentifier {
  application: string;
  endpoint: string;
  role: Role;
}

/** An endpoint identifier as a user typed it: `app` or `app:endpoint`. */
export interface EndpointArg {
  application: string;
  /** Empty when not given. */
  endpoint: string;
  /** The text as typed, for messages. */
  raw: string;
}

/** A base (platform): `os@track[/risk]`. */
export interface Base {
  os: string;
  track: string;
  risk: string;
}
