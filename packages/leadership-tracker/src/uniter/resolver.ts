// The uniter's leadership resolver and operations (spec §11.2; Juju's uniter/leadership/resolver.go and
// operation/leader.go): when leader-elected and leader-settings-changed run.
import type { Logger } from "../types";
import type {
  LeadershipOperation,
  OperationOutcome,
  RemoteLeadershipSnapshot,
  UniterLocalState,
} from "./types";

/** Kinds of uniter operation errors about leadership. */
export type UniterErrorKind = "ErrCannotAcceptLeadership" | "ErrSkipExecute";

/** An operation error carrying Juju's kind name. */
export class UniterError extends Error {
  override readonly name = "UniterError";
  constructor(
    readonly kind: UniterErrorKind,
    message?: string,
  ) {
    super(message ?? (kind === "ErrCannotAcceptLeadership" ? "cannot accept leadership" : "skip execution"));
  }
}

/** The hook a new leader runs once it has accepted leadership. */
export const LEADER_ELECTED = "leader-elected";
/** The hook a minion runs when the leader settings changed (and after resigning). */
export const LEADER_SETTINGS_CHANGED = "leader-settings-changed";

/** The next leadership operation, or undefined when there is none. */
export function nextLeadershipOp(
  local: UniterLocalState,
  remote: RemoteLeadershipSnapshot,
): LeadershipOperation | undefined {
  if (!local.installed) return undefined;
  const dying = remote.life !== "alive";
  const idle = local.kind === "continue";
  // Accepting needs an idle uniter; otherwise it is accepted on a later pass, after the pending hook.
  if (remote.leader && !local.leader && !dying && idle) return { kind: "AcceptLeadership" };
  if (local.leader && (!remote.leader || dying)) return { kind: "ResignLeadership" };
  // A leader never runs this hook, so after resigning the version mismatch makes it run at least once.
  if (!local.leader && !dying && idle && local.leaderSettingsVersion !== remote.leaderSettingsVersion) {
    return {
      kind: "RunHook",
      hook: LEADER_SETTINGS_CHANGED,
      leaderSettingsVersion: remote.leaderSettingsVersion,
    };
  }
  return undefined;
}

/**
 * Prepares and commits a leadership operation against the local state. AcceptLeadership outside the
 * "continue" state fails with ErrCannotAcceptLeadership; ResignLeadership of a non-leader with ErrSkipExecute.
 */
export function runLeadershipOp(
  op: LeadershipOperation,
  local: UniterLocalState,
  logger?: Pick<Logger, "warn">,
): OperationOutcome {
  switch (op.kind) {
    case "AcceptLeadership":
      if (local.kind !== "continue") throw new UniterError("ErrCannotAcceptLeadership");
      return {
        state: { ...local, leader: true, kind: "run-hook", step: "queued", hook: LEADER_ELECTED },
        queuedHook: LEADER_ELECTED,
        ranHook: undefined,
      };
    case "ResignLeadership":
      if (!local.leader) throw new UniterError("ErrSkipExecute");
      logger?.warn("we should run a leader-deposed hook here, but we can't yet");
      return { state: { ...local, leader: false }, queuedHook: undefined, ranHook: undefined };
    case "RunHook":
      return {
        state: { ...local, kind: "continue", step: "done", leaderSettingsVersion: op.leaderSettingsVersion },
        queuedHook: undefined,
        ranHook: op.hook,
      };
  }
}

/** Whether a queued hook runs: leader-elected is skipped when the unit is no longer leader. */
export type HookPreparation = "run" | "ErrSkipExecute";

/**
 * Prepares a queued hook just before it runs. leader-elected asks `isLeader` again and is skipped
 * (not failed) when the answer is no; an error from the check lets the hook run, as in Juju.
 */
export async function prepareHook(hook: string, isLeader: () => Promise<boolean>): Promise<HookPreparation> {
  if (hook !== LEADER_ELECTED) return "run";
  try {
    return (await isLeader()) ? "run" : "ErrSkipExecute";
  } catch {
    return "run";
  }
}
