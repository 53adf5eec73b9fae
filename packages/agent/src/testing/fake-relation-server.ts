// Serves a FakeModel as concord.relation.v1.RelationService (and ApplicationService's unit calls), so that
// real agent processes can run against it in tests. Only the calls a unit agent makes are implemented. Not
// part of the public API.
import {
  type CallContext,
  Code,
  ConcordError,
  ConcordServer,
  createLogger,
  Metrics,
  TokenAuthority,
} from "@concord/grpc";
import { Life } from "@concord/proto/events/v1/events";
import { ApplicationService, EndpointRole, RelationService } from "@concord/proto/relation/v1/relation";
import type { RelationApi, RelationInfo } from "../types";
import { FakeError, type FakeModel } from "./fake-model";

const unimplemented = async (): Promise<never> => {
  throw new ConcordError(
    Code.UNIMPLEMENTED,
    "NotImplemented",
    "not implemented by the fake relation service",
  );
};

function relation(r: RelationInfo) {
  return {
    uuid: r.uuid,
    id: r.id,
    key: r.endpoints.map((e) => `${e.application}:${e.name}`).join(" "),
    life: lifeOf(r.life),
    suspended: r.suspended,
    endpoints: r.endpoints.map((e) => ({
      application: e.application,
      name: e.name,
      role:
        e.role === "provider"
          ? EndpointRole.PROVIDER
          : e.role === "peer"
            ? EndpointRole.PEER
            : EndpointRole.REQUIRER,
    })),
    unitsInScope: r.unitsInScope,
  };
}

const lifeOf = (life: RelationInfo["life"]) =>
  life === "alive" ? Life.ALIVE : life === "dying" ? Life.DYING : Life.DEAD;

// Errors of the fake become ConcordErrors with the same kind.
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FakeError) throw new ConcordError(Code.NOT_FOUND, err.kind, err.message);
    throw err;
  }
}

/** A running fake relation service. */
export interface FakeRelationServer {
  address: string;
  tokens: TokenAuthority;
  stop(): Promise<void>;
}

/** Serves `model` on 127.0.0.1 (any port); unit agents authenticate with tokens from `tokens`. */
export async function serveFakeModel(model: FakeModel): Promise<FakeRelationServer> {
  const tokens = new TokenAuthority("fake-relation-server-secret");
  const server = new ConcordServer({
    name: "fake-relation",
    logger: createLogger("fake-relation", "warn"),
    metrics: new Metrics(),
    tokens,
    shutdownGraceMs: 100,
  });
  const api = (ctx: CallContext, unit: string): RelationApi => {
    if (ctx.identity.kind === "unit" && ctx.identity.unit !== unit)
      throw new ConcordError(
        Code.PERMISSION_DENIED,
        "PermissionDenied",
        `${ctx.identity.tag} may not act for ${unit}`,
      );
    return model.api(unit);
  };
  // The relation unit's UUID is `<relation uuid>|<unit>` here.
  server.add(RelationService, {
    addRelation: unimplemented,
    getRelation: unimplemented,
    listRelations: unimplemented,
    getRelationEndpointUUID: unimplemented,
    getRelationUUIDForRemoval: unimplemented,
    removeRelation: unimplemented,
    setRelationStatus: unimplemented,
    enterScope: (req, ctx) =>
      call(async () => {
        await api(ctx, req.unit).enterScope(req.relationUuid);
        return { relationUnitUuid: `${req.relationUuid}|${req.unit}` };
      }),
    getRelationUnit: (req, ctx) =>
      call(async () => {
        const rel = model.relation(req.relationUuid);
        if (!rel?.unitsInScope.includes(req.unit))
          throw new FakeError("RelationUnitNotFound", `${req.unit} is not in scope`);
        api(ctx, req.unit);
        return { relationUnitUuid: `${req.relationUuid}|${req.unit}` };
      }),
    leaveScope: (req, ctx) =>
      call(async () => {
        const [relationUuid, unit] = req.relationUnitUuid.split("|") as [string, string];
        await api(ctx, unit).leaveScope(relationUuid);
        return {};
      }),
    getRelationUnitSettings: (req) =>
      call(async () => ({ settings: await model.api(req.unit).unitSettings(req.relationUuid, req.unit) })),
    setRelationUnitSettings: (req, ctx) =>
      call(async () => {
        await api(ctx, req.unit).writeSettings(req.relationUuid, { unit: req.settings?.values ?? {} });
        return {};
      }),
    getRelationApplicationSettings: (req) =>
      call(async () => ({
        settings: await model
          .api(`${req.application}/0`)
          .applicationSettings(req.relationUuid, req.application),
      })),
    setRelationApplicationAndUnitSettings: (req, ctx) =>
      call(async () => {
        await api(ctx, req.unit).writeSettings(req.relationUuid, {
          unit: req.unitSettings?.values ?? {},
          ...(req.applicationSettings ? { application: req.applicationSettings.values } : {}),
        });
        return {};
      }),
    async *watchRelationUnits(req, ctx) {
      const changes = api(ctx, req.unit).watchRelationUnits(req.relationUuid, ctx.signal);
      for await (const c of changes) {
        yield {
          changed: Object.fromEntries(Object.entries(c.changed).map(([u, v]) => [u, BigInt(v.version)])),
          appChanged: Object.fromEntries(Object.entries(c.appChanged).map(([a, v]) => [a, BigInt(v)])),
          departed: [...c.departed],
        };
      }
    },
    async *watchUnitRelations(req, ctx) {
      for await (const c of api(ctx, req.unit).watchUnitRelations(ctx.signal)) {
        yield { changed: c.changed.map(relation), removed: c.removed };
      }
    },
  });
  server.add(ApplicationService, {
    deployApplication: unimplemented,
    getApplication: unimplemented,
    listApplications: unimplemented,
    removeApplication: unimplemented,
    addUnit: unimplemented,
    getUnit: unimplemented,
    listUnits: unimplemented,
    removeUnit: unimplemented,
    ensureUnitDead: (req, ctx) =>
      call(async () => {
        await api(ctx, req.name).ensureUnitDead();
        return {};
      }),
    async *watchUnit(req, ctx) {
      for await (const u of api(ctx, req.unit).watchUnit(ctx.signal)) {
        yield { unit: { name: u.name, application: u.name.split("/")[0]!, life: lifeOf(u.life) } };
      }
      if (!ctx.signal.aborted)
        throw new ConcordError(Code.NOT_FOUND, "UnitRemoved", `unit ${JSON.stringify(req.unit)} was removed`);
    },
  });
  const port = await server.listen("127.0.0.1:0");
  return { address: `127.0.0.1:${port}`, tokens, stop: () => server.shutdown() };
}
