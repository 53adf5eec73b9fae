// The uniter's view of leadership: its persisted local state, the remote snapshot, and the operations the
// leadership resolver chooses between.

/** The uniter's operation state kinds that matter to leadership; others behave like "run-hook". */
export type OperationKind = "install" | "continue" | "run-hook" | "run-action" | "upgrade";

/** The step of the pending operation. */
export type OperationStep = "queued" | "pending" | "done";

/** The uniter's persisted state, as far as leadership is concerned. */
export interface UniterLocalState {
  /** The charm is installed; nothing leadership-related happens before. */
  installed: boolean;
  /** Leadership accepted locally (leader-elected queued or run). */
  leader: boolean;
  kind: OperationKind;
  /** The last leader-settings version a leader-settings-changed hook handled. */
  leaderSettingsVersion: number;
  step?: OperationStep;
  /** Name of the pending hook, when kind is "run-hook". */
  hook?: string;
}

/** Life of the unit as the remote state reports it. */
export type Life = "alive" | "dying" | "dead";

/** What the remote-state watcher knows about leadership. */
export interface RemoteLeadershipSnapshot {
  /** The tracker says this unit is leader. */
  leader: boolean;
  life: Life;
  /** Count of leader-settings notifications, the first one included. */
  leaderSettingsVersion: number;
}

/** The leadership resolver's choice. */
export type LeadershipOperation =
  | { kind: "AcceptLeadership" }
  | { kind: "ResignLeadership" }
  | { kind: "RunHook"; hook: "leader-settings-changed"; leaderSettingsVersion: number };

/** The result of running a leadership operation: the state to persist and the hook it queued, if any. */
export interface OperationOutcome {
  state: UniterLocalState;
  queuedHook: string | undefined;
  /** The hook the operation ran itself, if any. */
  ranHook: string | undefined;
}

/** Read and write access to an application's leader settings (the controller's API). */
export interface LeaderSettingsAccessor {
  read(application: string): Promise<Record<string, string>>;
  /**
   * Writes as `unit`; the controller checks leadership inside the write (a fenced write), against `term` too
   * when given (the tracker's latest term), so a writer whose tenure ended is refused.
   */
  merge(application: string, unit: string, settings: Record<string, string>, term?: number): Promise<void>;
}
