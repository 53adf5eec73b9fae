import { type Client, Code, ConcordError, createClient } from "@concord/grpc";
import { MeterStatusService } from "@concord/proto/meterstatus/v1/meterstatus";
import type { MeterStatus, MeterStatusClient, NotifyWatcher } from "./types";

/** Configuration of {@link GrpcMeterStatusClient}. */
export interface GrpcMeterStatusClientOptions {
  /** The meterstatus service (or the controller), `host:port`. */
  address: string;
  /** The unit agent's bearer token (`unit-<app>-<n>`). */
  token: string;
  /** The model the unit belongs to. */
  modelUuid: string;
}

const ENTRY_CODES: Record<string, Code> = {
  NotFound: Code.NOT_FOUND,
  Unauthorized: Code.PERMISSION_DENIED,
  NotValid: Code.INVALID_ARGUMENT,
};

/**
 * The unit agent's meter-status API over gRPC (concord.meterstatus.v1). Failures are ConcordErrors carrying
 * the service's kind; a per-unit error of GetMeterStatus is thrown the same way, as Juju's client does.
 */
export class GrpcMeterStatusClient implements MeterStatusClient {
  readonly #client: Client<typeof MeterStatusService>;
  readonly #modelUuid: string;

  constructor(options: GrpcMeterStatusClientOptions) {
    this.#client = createClient(MeterStatusService, options.address, { token: options.token });
    this.#modelUuid = options.modelUuid;
  }

  /** The unit's status as an agent sees it (already mapped). */
  async getMeterStatus(unitName: string): Promise<MeterStatus> {
    const res = await this.#client.getMeterStatus({ modelUuid: this.#modelUuid, units: [unitName] });
    const r = res.results[0];
    if (!r) throw new ConcordError(Code.INTERNAL, "Internal", `no meter status result for unit ${unitName}`);
    if (r.error)
      throw new ConcordError(ENTRY_CODES[r.error.kind] ?? Code.UNKNOWN, r.error.kind, r.error.message);
    return { code: r.code, info: r.info };
  }

  /** A notify watcher on the server stream: one event per message; `stop()` cancels the call. */
  watchMeterStatus(unitName: string): NotifyWatcher {
    const abort = new AbortController();
    const stream = this.#client.watchMeterStatus(
      { modelUuid: this.#modelUuid, unit: unitName },
      { signal: abort.signal },
    );
    async function* events(): AsyncGenerator<void> {
      try {
        for await (const _ of stream) yield;
      } catch (err) {
        // A stream we cancelled ends quietly; any other failure reaches the worker.
        if (!abort.signal.aborted) throw err;
      }
    }
    return Object.assign(events(), { stop: () => abort.abort() });
  }

  /** The unit's saved worker state YAML; "" = none. */
  async getWorkerState(unitName: string): Promise<string> {
    return (await this.#client.getWorkerState({ modelUuid: this.#modelUuid, unit: unitName })).state;
  }

  /** Replaces the unit's saved worker state. */
  async setWorkerState(unitName: string, yaml: string): Promise<void> {
    await this.#client.setWorkerState({ modelUuid: this.#modelUuid, unit: unitName, state: yaml });
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close();
  }
}
