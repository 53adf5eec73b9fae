// End to end against the real relation service (PostgreSQL-backed, as the controller runs it): see
// testing/e2e-scenario.ts.
import { test } from "node:test";
import { unitTag } from "@concord/grpc";
import {
  ApplicationService,
  EndpointRole,
  ModelService,
  RelationService,
} from "@concord/proto/relation/v1/relation";
import { startTestService } from "@concord/relation/testing";
import { runAgentScenario } from "./testing/e2e-scenario";

test("agents against the relation service: Juju's hook order, settings exchange, kill -9", async () => {
  const service = await startTestService();
  try {
    const models = await service.client(ModelService);
    const apps = await service.client(ApplicationService);
    const relations = await service.client(RelationService);
    const { model } = await models.createModel({ name: "e2e" });
    const modelUuid = model!.uuid;
    await apps.deployApplication({
      modelUuid,
      name: "wordpress",
      endpoints: [{ name: "db", role: EndpointRole.REQUIRER, interface: "mysql" }],
    });
    await apps.deployApplication({
      modelUuid,
      name: "mysql",
      endpoints: [{ name: "db", role: EndpointRole.PROVIDER, interface: "mysql" }],
    });
    for (const application of ["wordpress", "wordpress", "mysql"])
      await apps.addUnit({ modelUuid, application });
    await runAgentScenario({
      address: service.address,
      modelUuid,
      unitToken: (unit) => service.tokens.issue(unitTag(unit)),
      async relate() {
        const { relation } = await relations.addRelation({
          modelUuid,
          endpoint1: "wordpress:db",
          endpoint2: "mysql:db",
        });
        return { uuid: relation!.uuid, id: relation!.id };
      },
      async removeRelation(relationUuid) {
        await relations.removeRelation({ modelUuid, relationUuid });
      },
    });
  } finally {
    await service.stop();
  }
});
