import { HookKind, relationHook } from "./hook";
import type { HookInfo, HookSource, RelationUnitsChange } from "./types";

/**
 * The in-memory "relation-created has run" marks of one unit agent (spec section 5). At startup, mark every
 * relation the unit is already in scope of; committing a relation-created hook marks its relation.
 */
export class CreatedRelations {
  readonly #ids = new Set<number>();

  /** Marks the relations in `ids` as created. */
  constructor(ids: Iterable<number> = []) {
    for (const id of ids) this.#ids.add(id);
  }

  /** Whether relation-created has run (or need not run) for `relationId`. */
  has(relationId: number): boolean {
    return this.#ids.has(relationId);
  }

  /** Records that relation-created was committed for `relationId`. */
  mark(relationId: number): void {
    this.#ids.add(relationId);
  }

  /** Forgets `relationId` (after relation-broken). */
  forget(relationId: number): void {
    this.#ids.delete(relationId);
  }
}

/** Identity of the relation a RelationCreatedSource speaks for. */
export interface RelationCreatedOptions {
  relationId: number;
  /** The relation's other application (the local one for a peer relation). */
  remoteApplication: string;
  created: CreatedRelations;
}

/**
 * Puts relation-created in front of an alive relation's source (Juju 2.8+, spec section 5). Until the
 * relation is marked created, the only hook offered is relation-created, even before the baseline event;
 * once it was taken, nothing is offered until its commit marks the relation. Events reach the inner source
 * all along.
 */
export class RelationCreatedSource implements HookSource {
  readonly #inner: HookSource;
  readonly #options: RelationCreatedOptions;
  #delivered = false;

  /** Wraps `inner`, the relation's live source. */
  constructor(inner: HookSource, options: RelationCreatedOptions) {
    this.#inner = inner;
    this.#options = options;
  }

  /** Passes the event to the inner source. */
  update(change: RelationUnitsChange): void {
    this.#inner.update(change);
  }

  /** While not created: false until relation-created is taken, then true until it is committed. */
  empty(): boolean {
    if (this.#pending()) return this.#delivered;
    return this.#inner.empty();
  }

  /** relation-created while not created, else the inner source's next hook. */
  next(): HookInfo {
    if (!this.#pending()) return this.#inner.next();
    if (this.#delivered)
      throw new Error("RelationCreatedSource.next: waiting for relation-created to commit");
    return relationHook(HookKind.RelationCreated, this.#options.relationId, this.#options.remoteApplication);
  }

  /** Takes the hook returned by `next()`. */
  pop(): void {
    if (!this.#pending()) {
      this.#inner.pop();
      return;
    }
    if (this.#delivered) throw new Error("RelationCreatedSource.pop: waiting for relation-created to commit");
    this.#delivered = true;
  }

  #pending(): boolean {
    return !this.#options.created.has(this.#options.relationId);
  }
}
