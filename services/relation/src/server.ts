// The relation service's RPC handlers: decode and validate the request, authorize the caller, call the state,
// and map domain errors (Juju's kinds) to ConcordErrors.
import { setTimeout as delay } from "node:timers/promises";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ChannelNotifier } from "@concord/db";
import {
  authorize,
  type CallContext,
  Code,
  ConcordError,
  errors,
  type Identity,
  type ServiceImpl,
} from "@concord/grpc";
import {
  type ApplicationService,
  type CharmEndpoint,
  EndpointRole,
  EndpointScope,
  type ModelService,
  RelationStatus as PbRelationStatus,
  type RelationService,
} from "@concord/proto/relation/v1/relation";
import { RelationError, type RelationErrorKind } from "./domain/errors";
import { parseEndpointArg, parseRelationKey } from "./domain/identifier";
import { dropEmpty } from "./domain/settings";
import type { Endpoint, RelationStatus, Role, Scope } from "./domain/types";
import {
  parseBase,
  validateApplicationName,
  validateApplicationUUID,
  validateCIDR,
  validateEndpoints,
  validateModelName,
  validateModelUUID,
  validateRelationUUID,
  validateUnitName,
} from "./domain/validation";
import { diffRelationUnits, isEmptyDiff, type RelationUnitsSnapshot } from "./domain/watch";
import { modelChannel, pbLife } from "./store/events";
import { readUnit } from "./store/read";
import type { RelationState } from "./store/state";
import type { ApplicationView, RelationEndpointView, RelationView, UnitView } from "./store/types";
import { relationChanged, relationUnitsSnapshot, unitRelationsSnapshot } from "./store/watch";

const CODES: Partial<Record<RelationErrorKind, Code>> = {
  NotValid: Code.INVALID_ARGUMENT,
  RelationUUIDNotValid: Code.INVALID_ARGUMENT,
  RelationKeyNotValid: Code.INVALID_ARGUMENT,
  InvalidUnitName: Code.INVALID_ARGUMENT,
  ApplicationUUIDNotValid: Code.INVALID_ARGUMENT,
  UnitUUIDNotValid: Code.INVALID_ARGUMENT,
  AmbiguousRelation: Code.INVALID_ARGUMENT,
  RelationNotFound: Code.NOT_FOUND,
  RelationEndpointNotFound: Code.NOT_FOUND,
  ApplicationNotFound: Code.NOT_FOUND,
  ApplicationNotFoundForRelation: Code.NOT_FOUND,
  ApplicationEndpointNotFound: Code.NOT_FOUND,
  UnitNotFound: Code.NOT_FOUND,
  UnitRemoved: Code.NOT_FOUND,
  RelationUnitNotFound: Code.NOT_FOUND,
  UnitPrincipalNotFound: Code.NOT_FOUND,
  ModelNotFound: Code.NOT_FOUND,
  RelationAlreadyExists: Code.ALREADY_EXISTS,
  ApplicationAlreadyExists: Code.ALREADY_EXISTS,
  ModelAlreadyExists: Code.ALREADY_EXISTS,
  QuotaLimitExceeded: Code.RESOURCE_EXHAUSTED,
  NotHeld: Code.PERMISSION_DENIED,
};

/** A domain error as the ConcordError the client receives; all joined kinds go in the `kinds` detail. */
export function toConcordError(err: unknown): ConcordError {
  if (err instanceof RelationError) {
    const details: Record<string, string> = err.kinds.length > 1 ? { kinds: err.kinds.join(",") } : {};
    return new ConcordError(CODES[err.kind] ?? Code.FAILED_PRECONDITION, err.kind, err.message, details, {
      cause: err,
    });
  }
  return ConcordError.from(err);
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toConcordError(err);
  }
}

const ROLE_TO_PB: Record<Role, EndpointRole> = {
  provider: EndpointRole.PROVIDER,
  requirer: EndpointRole.REQUIRER,
  peer: EndpointRole.PEER,
};
const ROLE_FROM_PB: Partial<Record<EndpointRole, Role>> = {
  [EndpointRole.PROVIDER]: "provider",
  [EndpointRole.REQUIRER]: "requirer",
  [EndpointRole.PEER]: "peer",
};
const STATUS_TO_PB: Record<RelationStatus, PbRelationStatus> = {
  joining: PbRelationStatus.JOINING,
  joined: PbRelationStatus.JOINED,
  broken: PbRelationStatus.BROKEN,
  suspending: PbRelationStatus.SUSPENDING,
  suspended: PbRelationStatus.SUSPENDED,
  error: PbRelationStatus.ERROR,
};
const STATUS_FROM_PB = new Map(Object.entries(STATUS_TO_PB).map(([k, v]) => [v, k]));

const scopeToPb = (s: Scope) => (s === "container" ? EndpointScope.CONTAINER : EndpointScope.GLOBAL);

function endpointFromPb(e: CharmEndpoint): Endpoint {
  const role = ROLE_FROM_PB[e.role];
  if (!role) throw new RelationError("NotValid", `endpoint ${JSON.stringify(e.name)} has no role`);
  return {
    name: e.name,
    role,
    interface: e.interface,
    scope: e.scope === EndpointScope.CONTAINER ? "container" : "global",
    capacity: e.limit,
    optional: e.optional,
  };
}

function applicationToPb(a: ApplicationView) {
  return {
    uuid: a.uuid,
    modelUuid: a.modelUuid,
    name: a.name,
    life: pbLife(a.life),
    subordinate: a.subordinate,
    remote: a.remote,
    base: a.base,
    endpoints: a.endpoints.map((e) => ({
      name: e.name,
      role: ROLE_TO_PB[e.role],
      interface: e.interface,
      scope: scopeToPb(e.scope),
      limit: e.capacity,
      optional: e.optional,
    })),
  };
}

const status = (current: string, message: string) => ({ current, message });

function unitToPb(u: UnitView) {
  return {
    uuid: u.uuid,
    name: u.name,
    application: u.application,
    life: pbLife(u.life),
    machine: u.machine,
    principal: u.principal,
    agentStatus: status(u.agentStatus, u.agentMessage),
    workloadStatus: status(u.workloadStatus, u.workloadMessage),
  };
}

function relationEndpointToPb(e: RelationEndpointView) {
  return {
    uuid: e.uuid,
    application: e.application,
    name: e.name,
    role: ROLE_TO_PB[e.role],
    interface: e.interface,
    scope: scopeToPb(e.scope),
    limit: e.capacity,
  };
}

function relationToPb(r: RelationView) {
  return {
    uuid: r.uuid,
    id: r.id,
    key: r.key,
    life: pbLife(r.life),
    status: STATUS_TO_PB[r.status],
    statusMessage: r.statusMessage,
    statusSince: timestampFromDate(r.statusSince),
    suspended: r.suspended,
    suspendedReason: r.suspendedReason,
    scope: scopeToPb(r.scope),
    endpoints: r.endpoints.map(relationEndpointToPb),
    unitsInScope: r.unitsInScope,
  };
}

function model(uuid: string): string {
  validateModelUUID(uuid);
  return uuid;
}

function unitName(name: string): string {
  validateUnitName(name);
  return name;
}

/** Admin, or an agent of one of the relation's applications. */
function authorizeRelationReader(id: Identity, r: RelationView, what: string): void {
  if (id.kind === "admin") return;
  if (
    (id.kind === "unit" || id.kind === "application") &&
    r.endpoints.some((e) => e.application === id.application)
  )
    return;
  throw errors.permissionDenied(`${id.tag} may not ${what} of relation ${JSON.stringify(r.key)}`);
}

/** What the handlers need. */
export interface HandlerDeps {
  state: RelationState;
  notifier: ChannelNotifier;
}

/** Handlers of concord.relation.v1.ModelService. */
export function modelService({ state }: HandlerDeps): ServiceImpl<typeof ModelService> {
  return {
    createModel: (req, ctx) =>
      mapped(async () => {
        validateModelName(req.name);
        authorize.admin(ctx.identity, "create models");
        const m = await state.createModel(req.name);
        return { model: { uuid: m.uuid, name: m.name, life: pbLife(m.life) } };
      }),
    listModels: (_req, ctx) =>
      mapped(async () => {
        authorize.admin(ctx.identity, "list models");
        const models = await state.listModels();
        return { models: models.map((m) => ({ uuid: m.uuid, name: m.name, life: pbLife(m.life) })) };
      }),
    destroyModel: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        authorize.admin(ctx.identity, "destroy models");
        await state.destroyModel(m);
        return {};
      }),
  };
}

/** Handlers of concord.relation.v1.ApplicationService. */
export function applicationService({ state, notifier }: HandlerDeps): ServiceImpl<typeof ApplicationService> {
  return {
    deployApplication: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateApplicationName(req.name);
        parseBase(req.base);
        const endpoints = req.endpoints.map(endpointFromPb);
        validateEndpoints(endpoints);
        authorize.admin(ctx.identity, "deploy applications");
        const { application, peers } = await state.deployApplication(m, {
          name: req.name,
          subordinate: req.subordinate,
          remote: req.remote,
          base: req.base,
          endpoints,
        });
        return { application: applicationToPb(application), peerRelations: peers.map(relationToPb) };
      }),
    getApplication: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateApplicationName(req.name);
        authorize.applicationOrAdmin(ctx.identity, req.name, "read the application");
        return { application: applicationToPb(await state.getApplication(m, req.name)) };
      }),
    listApplications: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        authorize.admin(ctx.identity, "list applications");
        return { applications: (await state.listApplications(m)).map(applicationToPb) };
      }),
    removeApplication: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateApplicationName(req.name);
        authorize.admin(ctx.identity, "remove applications");
        await state.removeApplication(m, req.name);
        return {};
      }),
    addUnit: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateApplicationName(req.application);
        authorize.admin(ctx.identity, "add units");
        return { unit: unitToPb(await state.addUnit(m, req.application, req.machine)) };
      }),
    getUnit: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        const app = validateUnitName(req.name);
        authorize.applicationOrAdmin(ctx.identity, app, "read the unit");
        return { unit: unitToPb(await state.getUnit(m, req.name)) };
      }),
    listUnits: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        if (req.application) {
          validateApplicationName(req.application);
          authorize.applicationOrAdmin(ctx.identity, req.application, "list the units");
        } else authorize.admin(ctx.identity, "list every unit");
        return { units: (await state.listUnits(m, req.application)).map(unitToPb) };
      }),
    removeUnit: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        unitName(req.name);
        authorize.admin(ctx.identity, "remove units");
        await state.removeUnit(m, req.name);
        return {};
      }),
    ensureUnitDead: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        unitName(req.name);
        authorize.unitOrAdmin(ctx.identity, req.name, "mark the unit dead");
        await state.ensureUnitDead(m, req.name);
        return {};
      }),
    watchUnit: (req, ctx) => watchUnit(state, notifier, req, ctx),
  };
}

/** Handlers of concord.relation.v1.RelationService. */
export function relationService({ state, notifier }: HandlerDeps): ServiceImpl<typeof RelationService> {
  return {
    addRelation: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        const arg1 = parseEndpointArg(req.endpoint1);
        const arg2 = parseEndpointArg(req.endpoint2);
        for (const cidr of req.viaCidrs) validateCIDR(cidr);
        authorize.admin(ctx.identity, "add relations");
        const { relation, endpoints } = await state.addRelation(m, arg1, arg2, req.viaCidrs);
        return { relation: relationToPb(relation), endpoints: endpoints.map(relationEndpointToPb) };
      }),
    getRelation: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        let relation: RelationView;
        switch (req.by.case) {
          case "uuid":
            validateRelationUUID(req.by.value);
            relation = await state.getRelation(m, req.by.value);
            break;
          case "id":
            relation = await state.getRelationById(m, req.by.value);
            break;
          case "key":
            relation = await state.getRelationByKey(m, parseRelationKey(req.by.value));
            break;
          case "keyEndpoints":
            relation = await state.getRelationByKey(
              m,
              req.by.value.endpoints.map((e) => ({
                application: e.application,
                endpoint: e.endpoint,
                role: ROLE_FROM_PB[e.role] ?? ("unspecified" as Role),
              })),
            );
            break;
          default:
            throw new RelationError("NotValid", "name the relation by uuid, id, key or key endpoints");
        }
        authorizeRelationReader(ctx.identity, relation, "read");
        return { relation: relationToPb(relation) };
      }),
    listRelations: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        if (req.application) {
          validateApplicationName(req.application);
          authorize.applicationOrAdmin(ctx.identity, req.application, "list the relations");
        } else authorize.admin(ctx.identity, "list every relation");
        return { relations: (await state.listRelations(m, req.application)).map(relationToPb) };
      }),
    getRelationEndpointUUID: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateRelationUUID(req.relationUuid);
        validateApplicationUUID(req.applicationUuid);
        authorize.admin(ctx.identity, "look up relation endpoints");
        return {
          relationEndpointUuid: await state.getRelationEndpointUUID(m, req.relationUuid, req.applicationUuid),
        };
      }),
    getRelationUUIDForRemoval: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        const args =
          req.endpoints.length > 0
            ? { endpoints: req.endpoints.map(parseEndpointArg) }
            : { relationId: req.relationId };
        authorize.admin(ctx.identity, "remove relations");
        return { relationUuid: await state.getRelationUUIDForRemoval(m, args) };
      }),
    removeRelation: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateRelationUUID(req.relationUuid);
        authorize.admin(ctx.identity, "remove relations");
        const wait = (ms: number) => delay(ms, undefined, { signal: ctx.signal });
        await state.removeRelation(m, req.relationUuid, req.force, wait, req.waitSeconds * 1000);
        return {};
      }),
    enterScope: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateRelationUUID(req.relationUuid);
        unitName(req.unit);
        authorize.unit(ctx.identity, req.unit, "enter relation scope", true);
        const r = await state.enterScope(m, req.relationUuid, req.unit, dropEmpty(req.settings));
        return {
          relationUnitUuid: r.relationUnitUuid,
          subordinateCreated: r.subordinateCreated ? unitToPb(r.subordinateCreated) : undefined,
        };
      }),
    getRelationUnit: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateRelationUUID(req.relationUuid);
        unitName(req.unit);
        authorize.unitOrAdmin(ctx.identity, req.unit, "look up its relation unit");
        return { relationUnitUuid: await state.getRelationUnit(m, req.relationUuid, req.unit) };
      }),
    leaveScope: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateRelationUUID(req.relationUnitUuid);
        // An unknown relation unit is RelationUnitNotFound for any unit agent: leaving twice is how it arises.
        const unit = await state.unitOfRelationUnit(m, req.relationUnitUuid);
        if (unit) authorize.unit(ctx.identity, unit, "leave relation scope", true);
        else if (ctx.identity.kind !== "unit") authorize.admin(ctx.identity, "leave relation scope");
        await state.leaveScope(m, req.relationUnitUuid);
        return {};
      }),
    getRelationUnitSettings: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateRelationUUID(req.relationUuid);
        unitName(req.unit);
        authorizeRelationReader(
          ctx.identity,
          await state.getRelation(m, req.relationUuid),
          "read unit settings",
        );
        return { settings: await state.getRelationUnitSettings(m, req.relationUuid, req.unit) };
      }),
    setRelationUnitSettings: (req, ctx) =>
      mapped(async () => {
        if (!req.settings) return {};
        const m = model(req.modelUuid);
        validateRelationUUID(req.relationUuid);
        unitName(req.unit);
        authorize.unit(ctx.identity, req.unit, "write relation settings");
        await state.setRelationUnitSettings(m, req.relationUuid, req.unit, req.settings.values);
        return {};
      }),
    getRelationApplicationSettings: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateRelationUUID(req.relationUuid);
        validateApplicationName(req.application);
        authorizeRelationReader(
          ctx.identity,
          await state.getRelation(m, req.relationUuid),
          "read application settings",
        );
        return { settings: await state.getRelationApplicationSettings(m, req.relationUuid, req.application) };
      }),
    setRelationApplicationAndUnitSettings: (req, ctx) =>
      mapped(async () => {
        if (!req.applicationSettings && !req.unitSettings) return {};
        const m = model(req.modelUuid);
        validateRelationUUID(req.relationUuid);
        unitName(req.unit);
        authorize.unit(ctx.identity, req.unit, "write relation settings");
        await state.setRelationApplicationAndUnitSettings(
          m,
          req.relationUuid,
          { unit: req.unit, term: Number(req.leadershipTerm) },
          req.applicationSettings?.values ?? null,
          req.unitSettings?.values ?? null,
        );
        return {};
      }),
    setRelationStatus: (req, ctx) =>
      mapped(async () => {
        const m = model(req.modelUuid);
        validateRelationUUID(req.relationUuid);
        unitName(req.unit);
        const value = STATUS_FROM_PB.get(req.status);
        if (!value) throw new RelationError("NotValid", `invalid status ${req.status}`);
        authorize.unit(ctx.identity, req.unit, "set relation status");
        await state.setRelationStatus(
          m,
          req.relationUuid,
          { unit: req.unit, term: Number(req.leadershipTerm) },
          value,
          req.message,
        );
        return {};
      }),
    watchRelationUnits: (req, ctx) => watchRelationUnits(state, notifier, req, ctx),
    watchUnitRelations: (req, ctx) => watchUnitRelations(state, notifier, req, ctx),
  };
}

// Juju's uniter learns its unit's life from this watcher: dying starts its relations' departure.
async function* watchUnit(
  state: RelationState,
  notifier: ChannelNotifier,
  req: { modelUuid: string; unit: string },
  ctx: CallContext,
) {
  const m = await mapped(async () => {
    const m = model(req.modelUuid);
    unitName(req.unit);
    authorize.unitOrAdmin(ctx.identity, req.unit, "watch the unit");
    return m;
  });
  let prev: string | undefined;
  for await (const _ of notifier.changes(modelChannel(m), ctx.signal)) {
    const unit = await readUnit(state.sql, m, req.unit);
    if (!unit)
      throw toConcordError(
        prev === undefined
          ? new RelationError("UnitNotFound", `unit ${JSON.stringify(req.unit)} not found`)
          : new RelationError("UnitRemoved", `unit ${JSON.stringify(req.unit)} was removed`),
      );
    const pb = unitToPb(unit);
    const key = JSON.stringify(pb);
    if (key !== prev) yield { unit: pb };
    prev = key;
  }
}

async function* watchRelationUnits(
  state: RelationState,
  notifier: ChannelNotifier,
  req: { modelUuid: string; relationUuid: string; unit: string },
  ctx: CallContext,
) {
  const m = await mapped(async () => {
    const m = model(req.modelUuid);
    validateRelationUUID(req.relationUuid);
    unitName(req.unit);
    authorize.unitOrAdmin(ctx.identity, req.unit, "watch relation units");
    return m;
  });
  const changes = notifier.changes(modelChannel(m), ctx.signal);
  try {
    await changes.next(); // listening: the checks and first read below miss no later change
    const unit = await mapped(async () => {
      const relation = await state.getRelation(m, req.relationUuid);
      const unit = await readUnit(state.sql, m, req.unit);
      if (!unit) throw new RelationError("UnitNotFound", `unit ${JSON.stringify(req.unit)} not found`);
      if (!relation.endpoints.some((e) => e.applicationUuid === unit.applicationUuid))
        throw new RelationError(
          "UnitNotInRelation",
          `unit ${JSON.stringify(req.unit)} is not in relation ${JSON.stringify(relation.key)}`,
        );
      return unit;
    });
    let prev: RelationUnitsSnapshot = { units: new Map(), applications: new Map() };
    let first = true;
    do {
      const next = await relationUnitsSnapshot(state.sql, m, req.relationUuid, unit);
      const snapshot = next ?? { units: new Map(), applications: prev.applications };
      const diff = diffRelationUnits(prev, snapshot);
      if (first || !isEmptyDiff(diff)) {
        yield {
          changed: Object.fromEntries(diff.changed),
          appChanged: Object.fromEntries(diff.appChanged),
          departed: first ? [] : diff.departed,
        };
      }
      first = false;
      prev = snapshot;
      if (!next) return;
    } while (!(await changes.next()).done);
  } finally {
    await changes.return(undefined);
  }
}

async function* watchUnitRelations(
  state: RelationState,
  notifier: ChannelNotifier,
  req: { modelUuid: string; unit: string },
  ctx: CallContext,
) {
  const m = await mapped(async () => {
    const m = model(req.modelUuid);
    unitName(req.unit);
    authorize.unitOrAdmin(ctx.identity, req.unit, "watch its relations");
    return m;
  });
  let prev: Map<string, RelationView> | undefined;
  for await (const _ of notifier.changes(modelChannel(m), ctx.signal)) {
    const relations = await unitRelationsSnapshot(state.sql, m, req.unit);
    if (!relations) {
      if (!prev)
        throw toConcordError(new RelationError("UnitNotFound", `unit ${JSON.stringify(req.unit)} not found`));
      return;
    }
    const next = new Map(relations.map((r) => [r.uuid, r]));
    const changed = relations.filter((r) => {
      const before = prev?.get(r.uuid);
      return !before || relationChanged(before, r);
    });
    const removed = prev ? [...prev.keys()].filter((uuid) => !next.has(uuid)) : [];
    if (!prev || changed.length > 0 || removed.length > 0)
      yield { changed: changed.map(relationToPb), removed };
    prev = next;
  }
}
