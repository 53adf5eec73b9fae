// A ticket resolves exactly once; resolving it again is a no-op, so stop and the normal path cannot race.
import type { Ticket } from "./types";

/** The tracker's side of a ticket. */
export class PendingTicket implements Ticket {
  #resolved = false;
  readonly #answer: Promise<boolean>;
  #resolve!: (value: boolean) => void;

  constructor() {
    this.#answer = new Promise<boolean>((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** True once the ticket has an answer. */
  get resolved(): boolean {
    return this.#resolved;
  }

  /** Answers the ticket unless it already has an answer. */
  resolve(value: boolean): void {
    if (this.#resolved) return;
    this.#resolved = true;
    this.#resolve(value);
  }

  wait(): Promise<boolean> {
    return this.#answer;
  }

  ready(): Promise<void> {
    return this.#answer.then(() => undefined);
  }
}
