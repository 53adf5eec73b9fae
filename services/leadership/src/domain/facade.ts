// The leadership API's rules (spec §9), free of gRPC: who may call, the duration bounds, and the renaming
// of lease errors to leadership errors. The gRPC server decodes a request, calls this, and maps the kinds.
import { LeadershipError, notLeaderError, toLeadershipError } from "./errors";
import type { ClaimResult, LeaseClient, Token } from "./types";
import { applicationOfUnit, isValidApplicationName, isValidUnitName } from "./validation";

/** The authenticated caller of the API. Only unit and application (operator) agents may use agent calls. */
export type AuthEntity =
  | { kind: "unit"; name: string }
  | { kind: "application"; name: string }
  | { kind: "machine"; id: string }
  | { kind: "controller" };

/** Claim durations the API accepts, inclusive (spec §1.3). */
export const apiClaimDurationBounds = { minMs: 5_000, maxMs: 300_000 } as const;

const unauthorized = () => new LeadershipError("Unauthorized");

/** A guarded operation run by `withLeader`: `signal` aborts soon after leadership is lost. */
export type LeaderFunc<T> = (signal: AbortSignal, term: number) => Promise<T>;

/** Options of a {@link LeadershipFacade}. */
export interface FacadeOptions {
  /** Accepted claim durations; production uses `apiClaimDurationBounds` (tests may lower the minimum). */
  claimDurationBounds?: { minMs: number; maxMs: number };
}

/** The leadership API of one model, over a lease client bound to (application-leadership, model). */
export class LeadershipFacade {
  readonly #leases: LeaseClient;
  readonly #bounds: { minMs: number; maxMs: number };

  constructor(leases: LeaseClient, options: FacadeOptions = {}) {
    this.#leases = leases;
    this.#bounds = options.claimDurationBounds ?? apiClaimDurationBounds;
  }

  /** Claims (or renews) `unit`'s leadership of `application` for `durationMs`; resolves with the term. */
  async claimLeadership(
    caller: AuthEntity,
    application: string,
    unit: string,
    durationMs: number,
  ): Promise<ClaimResult> {
    checkAgent(caller);
    if (!isValidApplicationName(application) || !isValidUnitName(unit)) throw unauthorized();
    if (!(durationMs >= this.#bounds.minMs && durationMs <= this.#bounds.maxMs) || Number.isNaN(durationMs)) {
      throw new LeadershipError("InvalidDuration");
    }
    if (caller.kind === "unit" && (caller.name !== unit || applicationOfUnit(unit) !== application)) {
      throw unauthorized();
    }
    if (
      caller.kind === "application" &&
      (caller.name !== application || applicationOfUnit(unit) !== application)
    ) {
      throw unauthorized();
    }
    try {
      return await this.#leases.claim(application, unit, durationMs);
    } catch (err) {
      throw toLeadershipError(err, "claim", application, unit);
    }
  }

  /** Blocks until `application` has no leader; `signal` cancels (→ ErrBlockCancelled). */
  async blockUntilLeadershipReleased(
    caller: AuthEntity,
    application: string,
    signal?: AbortSignal,
  ): Promise<void> {
    checkAgent(caller);
    if (!isValidApplicationName(application)) throw unauthorized();
    const own = caller.kind === "unit" ? applicationOfUnit(caller.name) : (caller as { name: string }).name;
    if (own !== application) throw unauthorized();
    try {
      await this.#leases.waitUntilExpired(application, { signal });
    } catch (err) {
      throw toLeadershipError(err, "wait", application, "");
    }
  }

  /** Controller-side: revokes `unit`'s leadership (a unit becoming Dead hands over at once). */
  async revokeLeadership(application: string, unit: string): Promise<void> {
    try {
      await this.#leases.revoke(application, unit);
    } catch (err) {
      throw toLeadershipError(err, "revoke", application, unit);
    }
  }

  /** Controller-side: pins `application`'s leadership for `entity`, held or not. */
  pinLeadership(application: string, entity: string): Promise<void> {
    return this.#leases.pin(application, entity);
  }

  /** Controller-side: removes `entity`'s pin; normal expiry resumes when no pin remains. */
  unpinLeadership(application: string, entity: string): Promise<void> {
    return this.#leases.unpin(application, entity);
  }

  /** Controller-side: application → pinning entities, including applications with no leader. */
  pinnedLeadership(): Promise<Record<string, string[]>> {
    return this.#leases.pinned();
  }

  /** Controller-side: application → leader unit, for status and `app/leader` addressing. */
  leaders(): Promise<Record<string, string>> {
    return this.#leases.leases();
  }

  /** Controller-side: a token whose check gives `unit`'s current term, or fails with NotLeaderError. */
  leadershipCheck(application: string, unit: string): Token {
    const token = this.#leases.token(application, unit);
    return {
      check: async () => {
        try {
          return await token.check();
        } catch (err) {
          throw toLeadershipError(err, "check", application, unit);
        }
      },
    };
  }

  /**
   * Runs `fn` while `unit` leads `application` (spec §9.4). Its signal aborts soon after the lease is gone;
   * writes made by `fn` must still be fenced with the term it receives.
   */
  async withLeader<T>(
    application: string,
    unit: string,
    fn: LeaderFunc<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) throw new LeadershipError("ErrBlockCancelled");
    const guard = new AbortController();
    const stopWaiting = new AbortController();
    const onCallerAbort = () => guard.abort(new LeadershipError("ErrBlockCancelled"));
    signal?.addEventListener("abort", onCallerAbort, { once: true });
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const waitEnded = this.#leases
      .waitUntilExpired(application, { signal: stopWaiting.signal, started: markStarted })
      .then(
        () => ({ error: undefined as unknown }),
        (error: unknown) => ({ error }),
      )
      .then((outcome) => {
        guard.abort(notLeaderError(application, unit));
        return outcome;
      });
    try {
      const first = await Promise.race([started.then(() => undefined), waitEnded]);
      if (first !== undefined) {
        // The wait ended before it was registered: the lease is gone, or its state is unknown.
        throw first.error
          ? toLeadershipError(first.error, "wait", application, unit)
          : notLeaderError(application, unit);
      }
      const { term } = await this.leadershipCheck(application, unit).check();
      try {
        return await fn(guard.signal, term);
      } catch (err) {
        throw new Error(`executing leadership func: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
    } finally {
      signal?.removeEventListener("abort", onCallerAbort);
      stopWaiting.abort();
      await waitEnded;
    }
  }
}

function checkAgent(caller: AuthEntity): void {
  if (caller.kind === "unit" && isValidUnitName(caller.name)) return;
  if (caller.kind === "application" && isValidApplicationName(caller.name)) return;
  throw unauthorized();
}
