import type { Endpoint, Life, RelationStatus, Role, Scope } from "../domain/types";

/** A model. */
export interface ModelView {
  uuid: string;
  name: string;
  life: Life;
}

/** An application endpoint as stored. */
export interface EndpointView extends Endpoint {
  uuid: string;
}

/** An application with its endpoints. */
export interface ApplicationView {
  uuid: string;
  modelUuid: string;
  name: string;
  life: Life;
  subordinate: boolean;
  remote: boolean;
  /** `os@track[/risk]`, or "" for none. */
  base: string;
  endpoints: EndpointView[];
}

/** A unit. */
export interface UnitView {
  uuid: string;
  name: string;
  applicationUuid: string;
  application: string;
  life: Life;
  machine: string;
  /** Principal unit name; "" for a principal. */
  principal: string;
  principalUuid: string | null;
  agentStatus: string;
  agentMessage: string;
  workloadStatus: string;
  workloadMessage: string;
}

/** One side of a relation, with what checks need of its application. */
export interface RelationEndpointView {
  /** The relation endpoint's UUID. */
  uuid: string;
  endpointUuid: string;
  applicationUuid: string;
  application: string;
  applicationLife: Life;
  subordinate: boolean;
  remote: boolean;
  name: string;
  role: Role;
  interface: string;
  /** The relation's scope, as Juju's newest views report it for both sides. */
  scope: Scope;
  capacity: number;
}

/** A relation with its endpoints (requirer, provider, peer order), status and the units in its scope. */
export interface RelationView {
  uuid: string;
  modelUuid: string;
  id: number;
  key: string;
  life: Life;
  status: RelationStatus;
  statusMessage: string;
  statusSince: Date;
  suspended: boolean;
  suspendedReason: string;
  scope: Scope;
  endpoints: RelationEndpointView[];
  /** Unit names, sorted. */
  unitsInScope: string[];
}

/** What EnterScope did. */
export interface EnterScopeResult {
  relationUnitUuid: string;
  /** The subordinate unit created for the entering principal, if one was. */
  subordinateCreated: UnitView | null;
}

/** Juju's RelationUnitsChange as one watcher snapshot or diff. */
export interface RelationUnitsChange {
  changed: Map<string, bigint>;
  appChanged: Map<string, bigint>;
  departed: string[];
}
