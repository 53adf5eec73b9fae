// The controller's leadership API over gRPC (concord.leadership.v1), as one unit agent uses it: the tracker's
// claimer, the hook tools' leader settings, and the leader-settings watcher.
import { type Client, createClient } from "@concord/grpc";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import { LeadershipError } from "./errors";
import type { LeadershipClaimer } from "./types";
import type { LeaderSettingsAccessor } from "./uniter/types";

/** Configuration of a {@link GrpcLeadershipClient}. */
export interface GrpcLeadershipOptions {
  /** `host:port` of the leadership service (or the all-in-one controller). */
  address: string;
  /** The agent's bearer token (`unit-<app>-<n>` or `application-<app>`). */
  token: string;
  /** The model the agent's application lives in. */
  modelUuid: string;
}

/**
 * LeadershipClaimer and LeaderSettingsAccessor over the leadership service. Errors are ConcordErrors carrying
 * the service's kind (ErrClaimDenied, NotLeaderError, ...); a wait cancelled through its signal fails with
 * ErrBlockCancelled, as the tracker expects.
 */
export class GrpcLeadershipClient implements LeadershipClaimer, LeaderSettingsAccessor {
  readonly #client: Client<typeof LeadershipService>;
  readonly #model: string;

  constructor(options: GrpcLeadershipOptions) {
    this.#client = createClient(LeadershipService, options.address, { token: options.token });
    this.#model = options.modelUuid;
  }

  /** Claims or renews `unit`'s leadership for `durationMs` (5 s to 300 s); resolves with the term. */
  async claimLeadership(application: string, unit: string, durationMs: number): Promise<{ term: number }> {
    const res = await this.#client.claimLeadership({
      modelUuid: this.#model,
      application,
      unit,
      durationSeconds: durationMs / 1000,
    });
    return { term: Number(res.term) };
  }

  /** Resolves once `application` has no leader; aborting `signal` cancels the call (ErrBlockCancelled). */
  async blockUntilLeadershipReleased(application: string, signal: AbortSignal): Promise<void> {
    try {
      await this.#client.blockUntilLeadershipReleased({ modelUuid: this.#model, application }, { signal });
    } catch (err) {
      if (signal.aborted) throw new LeadershipError("ErrBlockCancelled", undefined, { cause: err });
      throw err;
    }
  }

  /** The application's leader settings. */
  async read(application: string): Promise<Record<string, string>> {
    const res = await this.#client.getLeaderSettings({ modelUuid: this.#model, application });
    return { ...res.settings };
  }

  /** Merges settings as `unit`; refused (NotLeaderError) unless it leads, with `term` when given. */
  async merge(
    application: string,
    unit: string,
    settings: Record<string, string>,
    term?: number,
  ): Promise<void> {
    await this.#client.mergeLeaderSettings({
      modelUuid: this.#model,
      application,
      unit,
      settings,
      term: BigInt(term ?? 0),
    });
  }

  /** One version number per change of the application's leader settings, the current one first. */
  async *watchLeaderSettings(application: string, signal: AbortSignal): AsyncIterable<number> {
    for await (const msg of this.#client.watchLeaderSettings(
      { modelUuid: this.#model, application },
      { signal },
    )) {
      yield Number(msg.version);
    }
  }

  /** Closes the channel. */
  close(): void {
    this.#client.close();
  }
}
