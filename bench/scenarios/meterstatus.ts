// The meterstatus service's hot RPCs: an agent's GetMeterStatus (one unit, read path) and an operator's
// SetMeterStatus (write path: row lock, outbox, pg_notify). Units come from the relation service's events, so
// prepare adds them through the relation service and waits until meterstatus has learnt them.
import { createClient } from "@concord/grpc";
import { MeterStatusService } from "@concord/proto/meterstatus/v1/meterstatus";
import { ApplicationService, ModelService } from "@concord/proto/relation/v1/relation";
import type { BenchContext, Scenario } from "../lib/scenario";

const UNITS = 16;
const LEARN_TIMEOUT_MS = 30_000;

async function prepare(ctx: BenchContext) {
  const models = createClient(ModelService, ctx.address, { token: ctx.adminToken });
  const apps = createClient(ApplicationService, ctx.address, { token: ctx.adminToken });
  const meter = createClient(MeterStatusService, ctx.address, { token: ctx.adminToken });
  try {
    const { model } = await models.createModel({ name: `bench-meterstatus-${Date.now()}` });
    const modelUuid = model?.uuid ?? "";
    await apps.deployApplication({ modelUuid, name: "metered" });
    const units: string[] = [];
    for (let i = 0; i < UNITS; i++)
      units.push((await apps.addUnit({ modelUuid, application: "metered" })).unit?.name ?? "");
    // The units reach meterstatus through the event log: wait (bounded) until every one is listed.
    const deadline = Date.now() + LEARN_TIMEOUT_MS;
    while ((await meter.listMeterStatuses({ modelUuid, application: "metered" })).units.length < UNITS) {
      if (Date.now() > deadline)
        throw new Error("meterstatus did not learn the bench units from the event log");
      await new Promise((r) => setTimeout(r, 100));
    }
    const agent = units[0] as string;
    return {
      modelUuid,
      agent,
      agentToken: await ctx.issue(`unit-${agent.replace("/", "-")}`),
    };
  } finally {
    models.close();
    apps.close();
    meter.close();
  }
}

/** GetMeterStatus as the unit's own agent; SetMeterStatus as admin, alternating codes over the units. */
export const scenario: Scenario = {
  service: "meterstatus",
  async prepare(ctx) {
    const { modelUuid, agent, agentToken } = await prepare(ctx);
    return [
      {
        label: "GetMeterStatus (unit agent, own unit)",
        call: "concord.meterstatus.v1.MeterStatusService.GetMeterStatus",
        data: { modelUuid, units: [agent] },
        token: agentToken,
      },
      {
        label: "SetMeterStatus (admin, one unit, status changes every call)",
        call: "concord.meterstatus.v1.MeterStatusService.SetMeterStatus",
        data: {
          modelUuid,
          unit: `metered/{{mod .RequestNumber ${UNITS}}}`,
          code: "GREEN",
          info: "request {{.RequestNumber}}",
        },
        token: ctx.adminToken,
      },
    ];
  },
};
