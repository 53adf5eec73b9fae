// gRPC clients of the leadership and meter-status services, in the shapes the tracker and the meter-status
// worker take.
import { createClient } from "@concord/grpc";
import type { MeterStatusClient } from "@concord/meterstatus-worker";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import { MeterStatusService } from "@concord/proto/meterstatus/v1/meterstatus";
import type { LeadershipBackend } from "./leadership";

/** Where and as whom the agent calls a service. */
export interface ServiceClientOptions {
  address: string;
  token: string;
  modelUuid: string;
}

/** The leadership service as the agent's LeadershipBackend; `close()` releases the channel. */
export function grpcLeadershipBackend(options: ServiceClientOptions): LeadershipBackend & { close(): void } {
  const client = createClient(LeadershipService, options.address, { token: options.token });
  const { modelUuid } = options;
  return {
    close: () => client.close(),
    claimer: {
      async claimLeadership(application, unit, durationMs) {
        const res = await client.claimLeadership({
          modelUuid,
          application,
          unit,
          durationSeconds: durationMs / 1000,
        });
        return { term: Number(res.term) };
      },
      async blockUntilLeadershipReleased(application, signal) {
        await client.blockUntilLeadershipReleased({ modelUuid, application }, { signal });
      },
    },
    settings: {
      async read(application) {
        return { ...(await client.getLeaderSettings({ modelUuid, application })).settings };
      },
      async merge(application, unit, settings) {
        await client.mergeLeaderSettings({ modelUuid, application, unit, settings });
      },
    },
    watchLeaderSettings: (application, signal) =>
      client.watchLeaderSettings({ modelUuid, application }, { signal }),
  };
}

/** The meter-status service as the worker's MeterStatusClient; `close()` releases the channel. */
export function grpcMeterStatusClient(options: ServiceClientOptions): MeterStatusClient & { close(): void } {
  const client = createClient(MeterStatusService, options.address, { token: options.token });
  const { modelUuid } = options;
  return {
    close: () => client.close(),
    async getMeterStatus(unit) {
      const { results } = await client.getMeterStatus({ modelUuid, units: [unit] });
      const result = results[0];
      if (!result) throw new Error(`no meter status for ${unit}`);
      if (result.error) throw Object.assign(new Error(result.error.message), { kind: result.error.kind });
      return { code: result.code, info: result.info };
    },
    watchMeterStatus(unit) {
      const stop = new AbortController();
      const stream = client.watchMeterStatus({ modelUuid, unit }, { signal: stop.signal });
      return {
        [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator](),
        stop: () => stop.abort(),
      };
    },
    async getWorkerState(unit) {
      return (await client.getWorkerState({ modelUuid, unit })).state;
    },
    async setWorkerState(unit, state) {
      await client.setWorkerState({ modelUuid, unit, state });
    },
  };
}
