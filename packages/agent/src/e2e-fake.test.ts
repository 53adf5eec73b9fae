// End to end against the in-memory relation service: see testing/e2e-scenario.ts.
import { test } from "node:test";
import { unitTag } from "@concord/grpc";
import { runAgentScenario } from "./testing/e2e-scenario";
import { FakeModel } from "./testing/fake-model";
import { serveFakeModel } from "./testing/fake-relation-server";

test("agents against the fake relation service: Juju's hook order, settings exchange, kill -9", async () => {
  const model = new FakeModel();
  model.deploy("wordpress", [{ name: "db", role: "requirer" }]);
  model.deploy("mysql", [{ name: "db", role: "provider" }]);
  const server = await serveFakeModel(model);
  try {
    await runAgentScenario({
      address: server.address,
      modelUuid: "e2e-model",
      unitToken: (unit) => server.tokens.issue(unitTag(unit)),
      relate: async () => model.relate("wordpress:db", "mysql:db"),
      removeRelation: async (uuid) => model.removeRelation(uuid),
    });
  } finally {
    await server.stop();
  }
});
