// The leadership service's hot RPC: ClaimLeadership as a leader's renewal (the holder extending its lease: a lease
// read and one conditional UPDATE), made by each holder's own unit agent, across many applications.
// ghz sends one bearer token per run and a unit may claim only for itself, so the load is one ghz run per
// application, all at once, each with that application's leader's token.
import { createClient } from "@concord/grpc";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import type { Scenario } from "../lib/scenario";

const LEASE_SECONDS = 60;
const APPLICATIONS = 8;

export const scenario: Scenario = {
  service: "leadership",
  async prepare(ctx) {
    const modelUuid = `bench-leadership-${Date.now()}`;
    const holders = await Promise.all(
      [...Array(APPLICATIONS).keys()].map(async (i) => {
        const application = `bench-app${i}`;
        const unit = `${application}/0`;
        const token = await ctx.issue(`unit-${application}-0`);
        const client = createClient(LeadershipService, ctx.address, { token });
        try {
          await client.claimLeadership({ modelUuid, application, unit, durationSeconds: LEASE_SECONDS });
        } finally {
          client.close();
        }
        return { token, data: { modelUuid, application, unit, durationSeconds: LEASE_SECONDS } };
      }),
    );
    return [
      {
        label: "ClaimLeadership, one lease (renewals by its holder)",
        call: "concord.leadership.v1.LeadershipService.ClaimLeadership",
        data: holders[0]!.data,
        token: holders[0]!.token,
      },
      {
        label: `ClaimLeadership, ${APPLICATIONS} applications (renewals by each holder, ${APPLICATIONS} ghz runs at once; p99 = worst run)`,
        call: "concord.leadership.v1.LeadershipService.ClaimLeadership",
        data: {},
        token: "",
        parallel: holders,
      },
    ];
  },
};
