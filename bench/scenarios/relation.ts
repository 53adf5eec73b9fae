// The relation service's hot RPCs: EnterScope (a unit joins), a unit settings write, and AddRelation.
import { createClient } from "@concord/grpc";
import {
  ApplicationService,
  EndpointRole,
  EndpointScope,
  ModelService,
  RelationService,
} from "@concord/proto/relation/v1/relation";
import type { BenchCall, Scenario } from "../lib/scenario";

/** Requirer applications deployed for AddRelation: each call relates the next one, so none repeats. */
export const ADD_RELATION_APPS = 2000;
const UNITS = 100;

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

export const scenario: Scenario = {
  service: "relation",
  async prepare(ctx) {
    const opts = { token: ctx.adminToken };
    const models = createClient(ModelService, ctx.address, opts);
    const apps = createClient(ApplicationService, ctx.address, opts);
    const relations = createClient(RelationService, ctx.address, opts);
    const model = (await models.createModel({ name: `bench-${Date.now()}` })).model!;
    const modelUuid = model.uuid;
    const endpoint = (name: string, role: EndpointRole) => ({
      name,
      role,
      interface: "mysql",
      scope: EndpointScope.GLOBAL,
      limit: 0,
    });
    await apps.deployApplication({
      modelUuid,
      name: "mysql",
      endpoints: [endpoint("db", EndpointRole.PROVIDER)],
    });
    await apps.deployApplication({
      modelUuid,
      name: "wordpress",
      endpoints: [endpoint("db", EndpointRole.REQUIRER)],
    });
    const rel = (await relations.addRelation({ modelUuid, endpoint1: "wordpress", endpoint2: "mysql" }))
      .relation!;
    await inBatches([...Array(UNITS).keys()], 16, (i) =>
      apps.addUnit({ modelUuid, application: "wordpress", machine: String(i) }),
    );
    await inBatches([...Array(ADD_RELATION_APPS).keys()], 16, (i) =>
      apps.deployApplication({
        modelUuid,
        name: `app-r${i}`,
        endpoints: [endpoint("db", EndpointRole.REQUIRER)],
      }),
    );
    models.close();
    apps.close();
    relations.close();
    const calls: BenchCall[] = [
      {
        label: `EnterScope (${UNITS} units of one relation, settings replaced)`,
        call: "concord.relation.v1.RelationService.EnterScope",
        data: {
          modelUuid,
          relationUuid: rel.uuid,
          unit: `wordpress/{{randomInt 0 ${UNITS}}}`,
          settings: { host: "10.0.0.{{randomInt 1 250}}" },
        },
        token: ctx.adminToken,
      },
      {
        label: "SetRelationUnitSettings (as the unit's agent, one unit: every write on one row)",
        call: "concord.relation.v1.RelationService.SetRelationUnitSettings",
        data: {
          modelUuid,
          relationUuid: rel.uuid,
          unit: "wordpress/0",
          settings: { values: { port: "{{.RequestNumber}}" } },
        },
        token: await ctx.issue("unit-wordpress-0"),
      },
      {
        label: `AddRelation (${ADD_RELATION_APPS} distinct new relations)`,
        call: "concord.relation.v1.RelationService.AddRelation",
        data: { modelUuid, endpoint1: "app-r{{.RequestNumber}}", endpoint2: "mysql" },
        token: ctx.adminToken,
        total: ADD_RELATION_APPS,
      },
    ];
    return calls;
  },
};
