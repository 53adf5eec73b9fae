import { type CreatedRelations, RelationCreatedSource } from "./created";
import { DyingHookSource } from "./dying-source";
import { HookKind, hookName } from "./hook";
import { HookQueue } from "./hook-queue";
import { LiveHookSource } from "./live-source";
import type { StateDir } from "./state-dir";
import type { HookInfo, HookSource } from "./types";

/** How the agent enters and leaves the relation's scope (a controller call). */
export interface RelationScope {
  enter(): Promise<void>;
  leave(): Promise<void>;
}

/** Everything a Relationer needs; the agent builds one per relation once the charm is installed. */
export interface RelationerConfig {
  /** The relation's state directory, as loaded by readStateDir / readAllStateDirs. */
  stateDir: StateDir;
  /** The local endpoint name; hooks run as `<endpoint>-<kind>`. */
  endpointName: string;
  /** The relation's other application (the local application for a peer relation). */
  remoteApplication: string;
  /** The local unit's name, e.g. `wordpress/0`. */
  localUnit: string;
  /** True for the implicit `juju-info` endpoint: no hooks at all. */
  implicit?: boolean;
  /** The agent's in-memory relation-created marks. */
  created: CreatedRelations;
  scope: RelationScope;
}

// Implicit relations deliver no hooks.
const silentSource: HookSource = {
  update: () => {},
  empty: () => true,
  next() {
    throw new Error("implicit relations deliver no hooks");
  },
  pop() {
    throw new Error("implicit relations deliver no hooks");
  },
};

/**
 * One relation of the local unit (Juju's Relationer; spec section 6): owns its hook queue and commits hooks
 * to its state directory. The agent feeds `queue` with change events, and for each hook it takes calls
 * `prepareHook`, runs the hook, then `commitHook`.
 */
export class Relationer {
  /** The hooks of this relation, in the order they must run. */
  readonly queue: HookQueue;
  readonly #config: RelationerConfig;

  /** Builds the live source from the committed state, with relation-created in front when not yet run. */
  constructor(config: RelationerConfig) {
    this.#config = config;
    const { stateDir, remoteApplication, created } = config;
    const source = config.implicit
      ? silentSource
      : new RelationCreatedSource(new LiveHookSource(stateDir.state()), {
          relationId: stateDir.relationId,
          remoteApplication,
          created,
        });
    this.queue = new HookQueue(source);
  }

  /** The relation id. */
  get relationId(): number {
    return this.#config.stateDir.relationId;
  }

  /** Makes sure the state directory exists, then enters scope. */
  async join(): Promise<void> {
    await this.#config.stateDir.ensure();
    await this.#config.scope.enter();
  }

  /**
   * The relation or the local unit became dying. Implicit relations leave scope and drop their state at
   * once; others switch to the dying source (departs, then broken) built from the committed state.
   */
  async setDying(options: { localUnitDying?: boolean } = {}): Promise<void> {
    const { stateDir, scope, implicit, remoteApplication, localUnit } = this.#config;
    if (implicit) {
      await scope.leave();
      await stateDir.remove();
      this.queue.close();
      return;
    }
    this.queue.setSource(
      new DyingHookSource(stateDir.state(), {
        remoteApplication,
        ...(options.localUnitDying ? { localDepartingUnit: localUnit } : {}),
      }),
    );
  }

  /** Validates `hook` against the committed state and returns the hook file name to run. */
  prepareHook(hook: HookInfo): string {
    this.#config.stateDir.validate(hook);
    return hookName(this.#config.endpointName, hook.kind);
  }

  /** Records a hook that ran. Broken also leaves scope, removes the state and closes the queue. */
  async commitHook(hook: HookInfo): Promise<void> {
    const { stateDir, scope, created } = this.#config;
    switch (hook.kind) {
      case HookKind.RelationCreated:
        created.mark(hook.relationId);
        this.queue.refresh();
        return;
      case HookKind.RelationBroken:
        await scope.leave();
        await stateDir.write(hook);
        created.forget(hook.relationId);
        this.queue.close();
        return;
      default:
        await stateDir.write(hook);
    }
  }
}
