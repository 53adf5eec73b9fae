// The leadership service's hot RPC: ClaimLeadership as a leader's renewal (the holder's extend: a lease read
// and one conditional UPDATE in the database), made by the holder's own unit agent.
// ghz renders the metadata template once per run (with request number 0), so every request of a run carries
// the same bearer token; a unit agent may claim only for itself, so all renewals are of one application's
// lease: the worst case for the database, every request updating the same row.
import { createClient } from "@concord/grpc";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import type { Scenario } from "../lib/scenario";

const LEASE_SECONDS = 60;

export const scenario: Scenario = {
  service: "leadership",
  async prepare(ctx) {
    const modelUuid = `bench-leadership-${Date.now()}`;
    const application = "bench-app";
    const unit = `${application}/0`;
    const token = await ctx.issue(`unit-${application}-0`);
    const client = createClient(LeadershipService, ctx.address, { token });
    try {
      await client.claimLeadership({ modelUuid, application, unit, durationSeconds: LEASE_SECONDS });
    } finally {
      client.close();
    }
    return [
      {
        label: "ClaimLeadership (renewal by the holder, unit agent, one lease)",
        call: "concord.leadership.v1.LeadershipService.ClaimLeadership",
        data: { modelUuid, application, unit, durationSeconds: LEASE_SECONDS },
        token,
      },
    ];
  },
};
