/** The commit fields of a ChangeEvent. */
export interface CommitInfo {
  commitId: string;
  commitIndex: number;
  commitSize: number;
}

/**
 * Groups the events of one database commit so that they are applied together (spec §2.2).
 *
 * A commit's events share `commitId` and reach the log in `commitIndex` order, possibly interleaved with other
 * commits' events. The commit is complete when its last event (`commitIndex == commitSize - 1`) arrives. A commit
 * whose first events came before the multiwatcher's starting point (they are in its snapshot) is therefore still
 * completed by its last event.
 */
export class CommitAssembler<T> {
  #pending = new Map<string, T[]>();

  /** Adds one event's item; returns the items of its commit, in order, when this event completes it. */
  add(commit: CommitInfo, item: T): T[] | undefined {
    if (commit.commitId === "" || commit.commitSize <= 1) return [item];
    const parts = this.#pending.get(commit.commitId) ?? [];
    parts.push(item);
    if (commit.commitIndex >= commit.commitSize - 1) {
      this.#pending.delete(commit.commitId);
      return parts;
    }
    this.#pending.set(commit.commitId, parts);
    return undefined;
  }

  /** Drops every incomplete commit (the store they would apply to is being replaced). */
  clear(): void {
    this.#pending.clear();
  }

  /** The number of incomplete commits. */
  get pendingCommits(): number {
    return this.#pending.size;
  }
}
