// The LeadershipService handlers: decode, authorize, call the domain (LeadershipFacade over the lease
// manager, or the leader-settings store), and map the domain's error kinds to gRPC codes (spec §4.3).
import { type CallContext, Code, ConcordError, type Identity, type ServiceImpl } from "@concord/grpc";
import type { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import { errorKind, grpcStatusByKind, LeaseError } from "./domain/errors";
import { type AuthEntity, type FacadeOptions, LeadershipFacade } from "./domain/facade";
import { LEADERSHIP_NAMESPACE, type LeaseClient } from "./domain/types";
import { applicationOfUnit, isValidApplicationName, isValidUnitName } from "./domain/validation";
import type { LeaderSettingsStore } from "./store/settings-store";

/** What the handlers run on. */
export interface LeadershipServiceDeps {
  /** Lease clients per model: the lease manager. */
  leases: { bind(namespace: string, modelUUID: string): LeaseClient };
  settings: LeaderSettingsStore;
  facade?: FacadeOptions;
}

/** A domain error as the ConcordError clients receive: its kind, and the code §4.3 recommends for it. */
export function toConcordError(err: unknown): ConcordError {
  if (err instanceof ConcordError) return err;
  const kind = errorKind(err);
  const status = kind === undefined ? undefined : grpcStatusByKind[kind];
  if (kind === undefined) return ConcordError.from(err);
  // A kind without a recommended status still travels by name, so clients can tell kinds apart.
  const code = status === undefined ? Code.UNKNOWN : (Code[status as keyof typeof Code] as Code);
  return new ConcordError(code, kind, (err as Error).message, {}, { cause: err });
}

const unauthorized = () => new ConcordError(Code.PERMISSION_DENIED, "Unauthorized", "permission denied");
const stopped = () => toConcordError(new LeaseError("ErrStopped"));

/** The caller as the facade's rules see it; the administrator is controller-side, never an agent. */
function authEntity(id: Identity): AuthEntity {
  if (id.kind === "unit") return { kind: "unit", name: id.unit };
  if (id.kind === "application") return { kind: "application", name: id.application };
  return { kind: "controller" };
}

function requireAdmin(id: Identity): void {
  if (id.kind !== "admin") throw unauthorized();
}

/** Admin, or an agent of the application (one of its units, or its application agent). */
function requireAdminOrAgentOf(id: Identity, application: string): void {
  if (id.kind === "admin") return;
  if ((id.kind === "unit" || id.kind === "application") && id.application === application) return;
  throw unauthorized();
}

function requireModel(modelUuid: string): void {
  if (modelUuid === "") throw new ConcordError(Code.INVALID_ARGUMENT, "NotValid", "model uuid not valid");
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toConcordError(err);
  }
}

/** The handlers of concord.leadership.v1.LeadershipService. */
export function leadershipService(deps: LeadershipServiceDeps): ServiceImpl<typeof LeadershipService> {
  const facade = (modelUuid: string) => {
    requireModel(modelUuid);
    return new LeadershipFacade(deps.leases.bind(LEADERSHIP_NAMESPACE, modelUuid), deps.facade);
  };
  return {
    async claimLeadership(req, ctx) {
      const f = facade(req.modelUuid);
      const { term } = await mapped(() =>
        f.claimLeadership(authEntity(ctx.identity), req.application, req.unit, req.durationSeconds * 1000),
      );
      return { term: BigInt(term) };
    },

    async blockUntilLeadershipReleased(req, ctx) {
      const f = facade(req.modelUuid);
      await blockUntilReleased(f, authEntity(ctx.identity), req.application, ctx);
      return {};
    },

    async revokeLeadership(req, ctx) {
      requireAdmin(ctx.identity);
      await mapped(() => facade(req.modelUuid).revokeLeadership(req.application, req.unit));
      return {};
    },

    async pinLeadership(req, ctx) {
      requireAdmin(ctx.identity);
      await mapped(() => facade(req.modelUuid).pinLeadership(req.application, req.entity));
      return {};
    },

    async unpinLeadership(req, ctx) {
      requireAdmin(ctx.identity);
      await mapped(() => facade(req.modelUuid).unpinLeadership(req.application, req.entity));
      return {};
    },

    async pinnedLeadership(req, ctx) {
      requireAdmin(ctx.identity);
      const pinned = await mapped(() => facade(req.modelUuid).pinnedLeadership());
      return {
        pinned: Object.fromEntries(Object.entries(pinned).map(([app, entities]) => [app, { entities }])),
      };
    },

    async checkLeadership(req, ctx) {
      requireAdmin(ctx.identity);
      const { term } = await mapped(() =>
        facade(req.modelUuid).leadershipCheck(req.application, req.unit).check(),
      );
      return { term: BigInt(term) };
    },

    async leaders(req, ctx) {
      requireAdmin(ctx.identity);
      return { leaders: await mapped(() => facade(req.modelUuid).leaders()) };
    },

    async getLeaderSettings(req, ctx) {
      requireModel(req.modelUuid);
      requireAdminOrAgentOf(ctx.identity, req.application);
      const { settings } = await deps.settings.read(req.modelUuid, req.application);
      return { settings };
    },

    async mergeLeaderSettings(req, ctx) {
      requireModel(req.modelUuid);
      const id = ctx.identity;
      if (
        id.kind !== "unit" ||
        id.unit !== req.unit ||
        !isValidUnitName(req.unit) ||
        applicationOfUnit(req.unit) !== req.application
      ) {
        throw unauthorized();
      }
      const term = req.term === 0n ? undefined : Number(req.term);
      await mapped(() => deps.settings.merge(req.modelUuid, req.application, req.unit, req.settings, term));
      return {};
    },

    async *watchLeaderSettings(req, ctx) {
      requireModel(req.modelUuid);
      if (!isValidApplicationName(req.application)) throw unauthorized();
      requireAdminOrAgentOf(ctx.identity, req.application);
      let pending = true;
      let wake: (() => void) | undefined;
      const notify = () => {
        pending = true;
        wake?.();
      };
      const unsubscribe = await deps.settings.subscribe(req.modelUuid, req.application, notify);
      ctx.signal.addEventListener("abort", notify, { once: true });
      try {
        let last = -1;
        while (!ctx.signal.aborted) {
          if (pending) {
            pending = false;
            const { version } = await deps.settings.read(req.modelUuid, req.application);
            if (version !== last) yield { version: BigInt(version) };
            last = version;
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      } finally {
        ctx.signal.removeEventListener("abort", notify);
        unsubscribe();
      }
    },
  };
}

/** The wait ends with the call: cancelled by the client → ErrBlockCancelled; server stopping → ErrStopped. */
async function blockUntilReleased(
  f: LeadershipFacade,
  caller: AuthEntity,
  application: string,
  ctx: CallContext,
): Promise<void> {
  if (ctx.shutdown.aborted) throw stopped();
  const wait = new AbortController();
  const cancel = () => wait.abort();
  ctx.signal.addEventListener("abort", cancel, { once: true });
  ctx.shutdown.addEventListener("abort", cancel, { once: true });
  try {
    await f.blockUntilLeadershipReleased(caller, application, wait.signal);
  } catch (err) {
    if (ctx.shutdown.aborted) throw stopped();
    throw toConcordError(err);
  } finally {
    ctx.signal.removeEventListener("abort", cancel);
    ctx.shutdown.removeEventListener("abort", cancel);
  }
}
