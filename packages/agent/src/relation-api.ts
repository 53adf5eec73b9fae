import { type Client, ConcordError, createClient } from "@concord/grpc";
import { Life as ProtoLife } from "@concord/proto/events/v1/events";
import {
  ApplicationService,
  EndpointRole,
  type Relation,
  RelationService,
  type WatchRelationUnitsResponse,
} from "@concord/proto/relation/v1/relation";
import type { RelationUnitsChange } from "@concord/relation-hooks";
import type { Life, RelationApi, RelationInfo, SettingsWrite, UnitInfo, UnitRelationsChange } from "./types";

/** Where and as whom the agent calls the controller. */
export interface RelationApiOptions {
  /** The controller's gRPC address, `host:port`. */
  address: string;
  /** The unit agent's bearer token. */
  token: string;
  modelUuid: string;
  /** The unit, `wordpress/0`. */
  unit: string;
}

// Out of scope already (or the relation is gone): leaving again is done.
const goneKinds = ["RelationUnitNotFound", "RelationNotFound", "NotFound", "UnitNotFound"];

// The unit no longer exists: its watcher ends, and it is as dead as it can be.
const unitGoneKinds = ["UnitNotFound", "UnitRemoved"];

/**
 * A RelationApi over concord.relation.v1 (RelationService, and ApplicationService for the unit itself);
 * `close()` releases the channels.
 */
export function grpcRelationApi(options: RelationApiOptions): RelationApi & { close(): void } {
  const client: Client<typeof RelationService> = createClient(RelationService, options.address, {
    token: options.token,
  });
  const units: Client<typeof ApplicationService> = createClient(ApplicationService, options.address, {
    token: options.token,
  });
  const { modelUuid, unit } = options;
  return {
    close: () => {
      client.close();
      units.close();
    },

    async *watchUnit(signal) {
      try {
        for await (const msg of units.watchUnit({ modelUuid, unit }, { signal })) {
          const u = msg.unit;
          if (!u) continue;
          const info: UnitInfo = { name: u.name, life: lifeOf(u.life), principal: u.principal };
          yield info;
        }
      } catch (err) {
        if (err instanceof ConcordError && err.is(...unitGoneKinds)) return;
        throw err;
      }
    },

    async ensureUnitDead() {
      try {
        await units.ensureUnitDead({ modelUuid, name: unit });
      } catch (err) {
        if (err instanceof ConcordError && err.is(...unitGoneKinds)) return;
        throw err;
      }
    },

    async *watchUnitRelations(signal) {
      for await (const msg of client.watchUnitRelations({ modelUuid, unit }, { signal })) {
        const change: UnitRelationsChange = {
          changed: msg.changed.map(relationInfo),
          removed: [...msg.removed],
        };
        yield change;
      }
    },

    async *watchRelationUnits(relationUuid, signal) {
      for await (const msg of client.watchRelationUnits({ modelUuid, relationUuid, unit }, { signal })) {
        yield relationUnitsChange(msg);
      }
    },

    async enterScope(relationUuid) {
      await client.enterScope({ modelUuid, relationUuid, unit });
    },

    async leaveScope(relationUuid) {
      try {
        const { relationUnitUuid } = await client.getRelationUnit({ modelUuid, relationUuid, unit });
        await client.leaveScope({ modelUuid, relationUnitUuid });
      } catch (err) {
        if (err instanceof ConcordError && err.is(...goneKinds)) return;
        throw err;
      }
    },

    async unitSettings(relationUuid, other) {
      const res = await client.getRelationUnitSettings({ modelUuid, relationUuid, unit: other });
      return { ...res.settings };
    },

    async applicationSettings(relationUuid, application) {
      const res = await client.getRelationApplicationSettings({ modelUuid, relationUuid, application });
      return { ...res.settings };
    },

    async writeSettings(relationUuid, write: SettingsWrite) {
      if (write.application === undefined) {
        await client.setRelationUnitSettings({
          modelUuid,
          relationUuid,
          unit,
          settings: { values: write.unit ?? {} },
        });
        return;
      }
      await client.setRelationApplicationAndUnitSettings({
        modelUuid,
        relationUuid,
        unit,
        applicationSettings: { values: write.application },
        unitSettings: { values: write.unit ?? {} },
        leadershipTerm: BigInt(write.leadershipTerm ?? 0),
      });
    },
  };
}

/** A proto Relation in the agent's terms. */
export function relationInfo(r: Relation): RelationInfo {
  return {
    uuid: r.uuid,
    id: r.id,
    life: lifeOf(r.life),
    suspended: r.suspended,
    endpoints: r.endpoints.map((e) => ({
      application: e.application,
      name: e.name,
      role:
        e.role === EndpointRole.PROVIDER ? "provider" : e.role === EndpointRole.PEER ? "peer" : "requirer",
    })),
    unitsInScope: [...r.unitsInScope],
  };
}

/** A WatchRelationUnits message as the hook source's change event (int64 versions become numbers). */
export function relationUnitsChange(msg: WatchRelationUnitsResponse): RelationUnitsChange {
  const changed: Record<string, { version: number }> = {};
  for (const [u, v] of Object.entries(msg.changed)) changed[u] = { version: Number(v) };
  const appChanged: Record<string, number> = {};
  for (const [a, v] of Object.entries(msg.appChanged)) appChanged[a] = Number(v);
  return { changed, appChanged, departed: [...msg.departed] };
}

function lifeOf(life: ProtoLife): Life {
  if (life === ProtoLife.DYING) return "dying";
  if (life === ProtoLife.DEAD) return "dead";
  return "alive";
}
