// Leadership inside one hook execution (spec §11.3; Juju's runner/context/leader.go): is-leader,
// leader-get and leader-set.
import { messageOf } from "../errors";
import type { LeadershipTracker } from "../types";
import type { LeaderSettingsAccessor } from "./types";

/** The leadership part of a hook context; build a new one for every hook execution. */
export class HookLeadershipContext {
  readonly #tracker: LeadershipTracker;
  readonly #accessor: LeaderSettingsAccessor;
  readonly #unit: string;
  #isMinion = false;
  #settings: Record<string, string> | undefined;

  constructor(tracker: LeadershipTracker, accessor: LeaderSettingsAccessor, unit: string) {
    this.#tracker = tracker;
    this.#accessor = accessor;
    this.#unit = unit;
  }

  /** is-leader: true holds for at least G from the call. False is sticky for the rest of the hook. */
  async isLeader(): Promise<boolean> {
    if (this.#isMinion) return false;
    if (await this.#tracker.claimLeader().wait()) return true;
    this.#isMinion = true;
    return false;
  }

  /** The fencing term of the tracker's latest claim, for writes that carry it. */
  term(): number | undefined {
    return this.#tracker.term();
  }

  /** leader-get: the application's settings, read once per hook so the hook sees one consistent view. */
  async leaderSettings(): Promise<Record<string, string>> {
    if (!this.#settings) {
      try {
        this.#settings = await this.#accessor.read(this.#tracker.applicationName());
      } catch (err) {
        throw new Error(`cannot read leadership settings: ${messageOf(err)}`, { cause: err });
      }
    }
    return { ...this.#settings };
  }

  /** leader-set: immediate, not deferred to the hook's end; the controller re-checks inside the write. */
  async writeLeaderSettings(settings: Record<string, string>): Promise<void> {
    try {
      if (!(await this.isLeader())) throw new Error("not leader");
      // Later reads should see the values as merged by the controller.
      this.#settings = undefined;
      await this.#accessor.merge(this.#tracker.applicationName(), this.#unit, settings, this.#tracker.term());
    } catch (err) {
      throw new Error(`cannot write leadership settings: ${messageOf(err)}`, { cause: err });
    }
  }
}
