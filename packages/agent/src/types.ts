// Interfaces of the unit agent: what it needs from the controller, and how it logs.
import type { RelationUnitsChange } from "@concord/relation-hooks";

/** A relation's life as the agent sees it. */
export type Life = "alive" | "dying" | "dead";

/** One side of a relation. */
export interface RelationEndpointInfo {
  application: string;
  /** The endpoint name, e.g. `db`. */
  name: string;
  role: "provider" | "requirer" | "peer";
}

/** A relation of the unit's application, as WatchUnitRelations reports it. */
export interface RelationInfo {
  uuid: string;
  /** The id hooks see (JUJU_RELATION_ID is `<endpoint>:<id>`). */
  id: number;
  life: Life;
  suspended: boolean;
  endpoints: RelationEndpointInfo[];
  /** Unit names in scope. */
  unitsInScope: string[];
}

/** One WatchUnitRelations event: relations that changed (all of them in the first event) and removed UUIDs. */
export interface UnitRelationsChange {
  changed: RelationInfo[];
  removed: string[];
}

/** The agent's own unit, as WatchUnit reports it. */
export interface UnitInfo {
  /** The unit, `wordpress/0`. */
  name: string;
  life: Life;
  /** The principal unit's name for a subordinate; `""` otherwise. */
  principal: string;
}

/** A settings write made by relation-set, flushed when the hook succeeds. Empty values delete keys. */
export interface SettingsWrite {
  unit?: Record<string, string>;
  /** Application settings; the unit must lead its application. */
  application?: Record<string, string>;
  /** The leadership term the unit holds, for an application write. */
  leadershipTerm?: number;
}

/**
 * The relation service as one unit's agent uses it (spec relation-hooks §6); bound to the agent's model and
 * unit. A gRPC client implements it; tests use an in-memory fake.
 */
export interface RelationApi {
  /** The unit's current state, then each change; ends once the unit no longer exists (removed). */
  watchUnit(signal: AbortSignal): AsyncIterable<UnitInfo>;
  /** Dying → dead (the controller then removes it); refused while the unit is still in a relation scope. */
  ensureUnitDead(): Promise<void>;
  /** The relations of the unit's application: all of them first, then each one that changed. */
  watchUnitRelations(signal: AbortSignal): AsyncIterable<UnitRelationsChange>;
  /** The relation's membership as the unit sees it (the baseline first), for the unit's hook source. */
  watchRelationUnits(relationUuid: string, signal: AbortSignal): AsyncIterable<RelationUnitsChange>;
  /** Puts the unit in the relation's scope; idempotent. */
  enterScope(relationUuid: string): Promise<void>;
  /** Takes the unit out of the relation's scope; a unit already out of scope is not an error. */
  leaveScope(relationUuid: string): Promise<void>;
  /** A unit's settings in a relation. */
  unitSettings(relationUuid: string, unit: string): Promise<Record<string, string>>;
  /** One application's settings in a relation. */
  applicationSettings(relationUuid: string, application: string): Promise<Record<string, string>>;
  /** Writes the unit's (and, as leader, its application's) settings in a relation. */
  writeSettings(relationUuid: string, write: SettingsWrite): Promise<void>;
}

/** The structured logger the agent uses (pino's logger fits). */
export interface AgentLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
