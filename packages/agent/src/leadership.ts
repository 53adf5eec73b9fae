// Leadership in the uniter (spec leadership §11): the tracker, the remote state that follows it, and the
// resolver that turns both into leader-elected and leader-settings-changed hooks.
import type { Clock } from "@concord/clock";
import {
  DEFAULT_GUARANTEE_MS,
  HookLeadershipContext,
  LEADER_ELECTED,
  type LeaderSettingsAccessor,
  type LeadershipClaimer,
  LeadershipRemoteState,
  nextLeadershipOp,
  prepareHook,
  runLeadershipOp,
  Tracker,
  type UniterLocalState,
} from "@concord/leadership-tracker";
import type { AgentLogger } from "./types";
import type { LeadershipHook, UniterLeadership } from "./uniter";

/** The controller's leadership API as the agent needs it (a gRPC client implements it). */
export interface LeadershipBackend {
  claimer: LeadershipClaimer;
  settings: LeaderSettingsAccessor;
  /** One value per change of the application's leader settings, the initial state first. */
  watchLeaderSettings(application: string, signal: AbortSignal): AsyncIterable<unknown>;
}

/** Configuration of {@link AgentLeadership}. */
export interface AgentLeadershipConfig {
  backend: LeadershipBackend;
  unitName: string;
  clock: Clock;
  logger: AgentLogger;
  /** The guarantee G; 30 s in production. */
  guaranteeMs?: number;
}

/**
 * The uniter's leadership: claims through a Tracker, follows it, counts leader-settings notifications and
 * offers the hooks the resolver chooses. Local state is in memory: after a restart a leader runs
 * leader-elected again and a minion leader-settings-changed, which the charm contract ("at least once") allows.
 */
export class AgentLeadership implements UniterLeadership {
  readonly #config: AgentLeadershipConfig;
  readonly #tracker: Tracker;
  readonly #remote: LeadershipRemoteState;
  readonly #listeners: (() => void)[] = [];
  readonly #stop = new AbortController();
  #firstClaim: boolean | undefined;
  #ready = false;
  #local: UniterLocalState = { installed: true, leader: false, kind: "continue", leaderSettingsVersion: 0 };

  constructor(config: AgentLeadershipConfig) {
    this.#config = config;
    this.#tracker = new Tracker({
      claimer: config.backend.claimer,
      unitName: config.unitName,
      clock: config.clock,
      guaranteeMs: config.guaranteeMs ?? DEFAULT_GUARANTEE_MS,
      logger: {
        debug: (msg) => config.logger.debug({}, msg),
        info: (msg) => config.logger.info({}, msg),
        warn: (msg) => config.logger.warn({}, msg),
      },
    });
    this.#remote = new LeadershipRemoteState(this.#tracker, () => this.#changed());
  }

  /** Starts following leadership and the leader settings. */
  start(): void {
    // Juju's remote state is complete only once the first claim was answered: decide nothing before.
    void this.#tracker
      .claimLeader()
      .wait()
      .then((leader) => {
        this.#firstClaim = leader;
        this.#changed();
      });
    this.#remote
      .start()
      .catch((err) => this.#config.logger.error({ error: String(err) }, "leadership tracking stopped"));
    void this.#watchSettings();
  }

  /** Stops the tracker and the settings watch. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#remote.stop();
    await this.#tracker.stop();
  }

  /** Whether the uniter accepted leadership (leader-elected queued or run). */
  get leader(): boolean {
    return this.#local.leader;
  }

  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  hookContext(): HookLeadershipContext {
    return new HookLeadershipContext(this.#tracker, this.#config.backend.settings, this.#config.unitName);
  }

  nextHook(): LeadershipHook | undefined {
    if (!this.#ready) {
      // The remote state may learn the first answer a moment after this ticket did.
      if (this.#firstClaim === undefined || (this.#firstClaim && !this.#remote.leader)) return undefined;
      this.#ready = true;
    }
    for (;;) {
      const op = nextLeadershipOp(this.#local, {
        leader: this.#remote.leader,
        life: "alive",
        leaderSettingsVersion: this.#remote.leaderSettingsVersion,
      });
      if (!op) return undefined;
      const outcome = runLeadershipOp(op, this.#local, { warn: (msg) => this.#config.logger.warn({}, msg) });
      if (op.kind === "ResignLeadership") {
        this.#local = outcome.state;
        continue;
      }
      if (op.kind === "AcceptLeadership") {
        this.#local = outcome.state;
        return {
          name: LEADER_ELECTED,
          shouldRun: async () =>
            (await prepareHook(LEADER_ELECTED, () => this.#tracker.claimLeader().wait())) === "run",
          commit: () => {
            this.#local = { ...this.#local, kind: "continue", step: "done" };
            delete this.#local.hook;
          },
        };
      }
      return {
        name: op.hook,
        shouldRun: async () => true,
        commit: () => {
          this.#local = outcome.state;
        },
      };
    }
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  async #watchSettings(): Promise<void> {
    try {
      const app = this.#tracker.applicationName();
      for await (const _ of this.#config.backend.watchLeaderSettings(app, this.#stop.signal)) {
        this.#remote.leaderSettingsChanged();
      }
    } catch (err) {
      if (!this.#stop.signal.aborted)
        this.#config.logger.error({ error: String(err) }, "leader settings watcher failed");
    }
  }
}
