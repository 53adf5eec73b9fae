import { mkdir, open, readdir, readFile, rename, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { RelationHooksError, wrapError } from "./errors";
import { HookKind, relationHook } from "./hook";
import { State } from "./state";
import type { HookInfo, Version } from "./types";

// Temporary files are dot-files ending in ".tmp": the text after their last "-" is never an integer or
// "app", so a leftover from a crash is ignored by readers (spec section 8).
const tempSuffix = ".tmp";
const isTempName = (name: string) => name.startsWith(".") && name.endsWith(tempSuffix);

/** The file name recording `remoteUnit` (first `/` → `-`), or `<app>-app` for an application. */
export function memberFileName(remoteUnit: string, application: string): string {
  return remoteUnit === "" ? `${application}-app` : remoteUnit.replace("/", "-");
}

/** The exact bytes Concord writes for a member file. */
export function memberFileContent(changeVersion: Version, changedPending: boolean): string {
  return `change-version: ${changeVersion}\n${changedPending ? "changed-pending: true\n" : ""}`;
}

/**
 * A relation's committed state persisted under `<relations-dir>/<relation-id>/`, one file per member.
 * Every change is written atomically (temporary file, fsync, rename, fsync of the directory).
 */
export class StateDir {
  #state: State;

  /** Wraps an already-loaded state; use `readStateDir` to open one. */
  constructor(
    readonly path: string,
    state: State,
  ) {
    this.#state = state;
  }

  /** The relation id (the directory name). */
  get relationId(): number {
    return this.#state.relationId;
  }

  /** A copy of the committed state. */
  state(): State {
    return this.#state.clone();
  }

  /** Checks `hook` against the committed state (see `State.validate`). */
  validate(hook: HookInfo): void {
    this.#state.validate(hook);
  }

  /** Creates the relation directory if needed (mode 0755); called before entering scope. */
  async ensure(): Promise<void> {
    try {
      await mkdir(this.path, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw wrapError(`cannot create relation state directory "${this.path}"`, err);
    }
  }

  /** Commits `hook`: records it on disk, then in memory. Does not validate (see `State.validate`). */
  async write(hook: HookInfo): Promise<void> {
    if (hook.kind === HookKind.RelationBroken) return this.remove();
    if (hook.kind === HookKind.RelationCreated) return;
    const file = join(this.path, memberFileName(hook.remoteUnit, hook.remoteApplication));
    const next = this.#state.clone();
    try {
      next.apply(hook);
      if (hook.kind === HookKind.RelationDeparted) {
        await unlinkIfExists(file);
        await syncDir(this.path);
      } else {
        const pending = hook.kind === HookKind.RelationJoined && hook.remoteUnit !== "";
        await writeFileAtomic(file, memberFileContent(hook.changeVersion, pending));
      }
    } catch (err) {
      throw wrapError(
        `failed to write ${JSON.stringify(hook.kind)} hook info for ${JSON.stringify(hook.remoteUnit)} on state directory`,
        err,
      );
    }
    this.#state = next;
  }

  /**
   * Removes the relation's state: its application files, then the directory if it is empty. Idempotent;
   * a directory still holding unit files fails with "directory not empty".
   */
  async remove(): Promise<void> {
    try {
      for (const app of this.#state.applicationMembers.keys()) {
        await unlinkIfExists(join(this.path, memberFileName("", app)));
      }
      await removeTempLeftovers(this.path);
      try {
        await rmdir(this.path);
      } catch (err) {
        if (codeOf(err) !== "ENOENT") throw err;
      }
      await syncDir(join(this.path, ".."));
    } catch (err) {
      throw wrapError(`cannot remove relation state directory "${this.path}"`, err);
    }
    this.#state.apply(relationHook(HookKind.RelationBroken, this.relationId, ""));
  }
}

/**
 * Loads the state of relation `relationId` from `<base>/<relationId>`. A missing directory gives an empty
 * state and creates nothing.
 */
export async function readStateDir(base: string, relationId: number): Promise<StateDir> {
  const path = join(base, String(relationId));
  try {
    return new StateDir(path, await loadState(path, relationId));
  } catch (err) {
    throw wrapError(`cannot load relation state from "${path}"`, err);
  }
}

/** Loads every integer-named relation directory in `dir`, keyed by relation id. A missing `dir` gives none. */
export async function readAllStateDirs(dir: string): Promise<Map<number, StateDir>> {
  const dirs = new Map<number, StateDir>();
  try {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (codeOf(err) === "ENOENT") return dirs;
      throw err;
    }
    for (const name of names.sort()) {
      if (!/^[0-9]+$/.test(name)) continue;
      const id = Number(name);
      dirs.set(id, await readStateDir(dir, id));
    }
  } catch (err) {
    throw wrapError(`cannot load relations state from "${dir}"`, err);
  }
  return dirs;
}

async function loadState(path: string, relationId: number): Promise<State> {
  let names: string[];
  try {
    names = await readdir(path);
  } catch (err) {
    if (codeOf(err) === "ENOENT") return new State(relationId);
    throw err;
  }
  const state = new State(relationId);
  const members = state.members!;
  for (const name of names.sort()) {
    const i = name.lastIndexOf("-");
    if (i < 0) continue;
    const prefix = name.slice(0, i);
    const suffix = name.slice(i + 1);
    const isUnit = /^[0-9]+$/.test(suffix);
    if (!isUnit && suffix !== "app") continue;
    const info = await readMemberFile(join(path, name), name);
    if (!isUnit) {
      state.applicationMembers.set(prefix, info.changeVersion);
      continue;
    }
    const unit = `${prefix}/${suffix}`;
    members.set(unit, info.changeVersion);
    if (!info.changedPending) continue;
    if (state.changedPending !== "") {
      throw new RelationHooksError(
        "NotValid",
        `${JSON.stringify(state.changedPending)} and ${JSON.stringify(unit)} both have pending changed hooks`,
      );
    }
    state.changedPending = unit;
  }
  return state;
}

async function readMemberFile(
  file: string,
  name: string,
): Promise<{ changeVersion: Version; changedPending: boolean }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    // Node words it "EISDIR: illegal operation on a directory"; the spec wants Go's "is a directory".
    if (codeOf(err) === "EISDIR") throw new RelationHooksError("Internal", `read ${file}: is a directory`);
    throw err;
  }
  const invalid = (why: string) =>
    new RelationHooksError("NotValid", `invalid unit file ${JSON.stringify(name)}: ${why}`);
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : String(err));
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw invalid("content is not a YAML mapping");
  const fields = doc as Record<string, unknown>;
  const version = fields["change-version"];
  // Juju's message says "changed-version" although the key is change-version.
  if (version === undefined || version === null) throw invalid(`"changed-version" not set`);
  if (typeof version !== "number" || !Number.isSafeInteger(version))
    throw invalid("change-version is not an integer");
  const pending = fields["changed-pending"] ?? false;
  if (typeof pending !== "boolean") throw invalid("changed-pending is not a boolean");
  return { changeVersion: version, changedPending: pending };
}

async function writeFileAtomic(file: string, content: string): Promise<void> {
  const dir = join(file, "..");
  const temp = join(dir, `.${file.slice(dir.length + 1)}${tempSuffix}`);
  const handle = await open(temp, "w", 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  await syncDir(dir);
}

async function removeTempLeftovers(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (codeOf(err) === "ENOENT") return;
    throw err;
  }
  for (const name of names) if (isTempName(name)) await unlinkIfExists(join(dir, name));
}

async function unlinkIfExists(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (codeOf(err) !== "ENOENT") throw err;
  }
}

// Makes a rename or unlink durable; some platforms refuse to open or fsync a directory, which is harmless.
async function syncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (err) {
    const code = codeOf(err);
    if (code !== "ENOENT" && code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM") throw err;
  } finally {
    await handle?.close();
  }
}

function codeOf(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String(err.code) : undefined;
}
