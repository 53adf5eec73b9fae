// The remote-state side of leadership (spec §11.1): follows the tracker's tickets and counts leader-settings
// notifications, reporting every change so the resolver loop can run again.
import type { LeadershipTracker } from "../types";

/** Called after every change: `leadershipChanged` is true when leadership itself changed. */
export type RemoteStateListener = (leadershipChanged: boolean) => void;

/** Leadership and leader-settings version as the remote-state watcher knows them. */
export class LeadershipRemoteState {
  readonly #tracker: LeadershipTracker;
  readonly #listener: RemoteStateListener;
  #leader = false;
  #settingsVersion = 0;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(tracker: LeadershipTracker, listener: RemoteStateListener) {
    this.#tracker = tracker;
    this.#listener = listener;
  }

  /** The tracker's latest answer. */
  get leader(): boolean {
    return this.#leader;
  }

  /** Count of leader-settings notifications, the first one included. */
  get leaderSettingsVersion(): number {
    return this.#settingsVersion;
  }

  /** Starts following the tracker: ClaimLeader first, then alternating WaitMinion / WaitLeader. */
  start(): Promise<void> {
    this.#loop ??= this.#follow();
    return this.#loop;
  }

  /** Stops reporting; the loop ends at the tracker's next answer (a stopping tracker answers at once). */
  stop(): void {
    this.#stopped = true;
  }

  /** Records one notification of the leader-settings watcher. */
  leaderSettingsChanged(): void {
    if (this.#stopped) return;
    this.#settingsVersion++;
    this.#listener(false);
  }

  async #follow(): Promise<void> {
    this.#set(await this.#tracker.claimLeader().wait());
    while (!this.#stopped) {
      if (this.#leader) {
        // True means a renewal was denied; false means the tracker is stopping.
        if (!(await this.#tracker.waitMinion().wait()) || this.#stopped) return;
        this.#set(false);
      } else {
        if (!(await this.#tracker.waitLeader().wait()) || this.#stopped) return;
        this.#set(true);
      }
    }
  }

  #set(leader: boolean): void {
    if (this.#stopped) return;
    const changed = leader !== this.#leader;
    this.#leader = leader;
    // Listeners restart the watchers that differ for leader and minion (secret rotation and expiry).
    this.#listener(changed);
  }
}
