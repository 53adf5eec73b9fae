// Runs relation-hooks.json against @concord/relation-hooks. Only the file's `cases` list is run: its
// conventions say `generationB` holds Juju-resolver reference cases that are "not run, not expected to
// pass", so they are neither run nor reported. Every StateDir is a real directory under a fresh temp dir.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import {
  DyingHookSource,
  type HookInfo,
  type HookSource,
  isHookKind,
  LiveHookSource,
  type RelationUnitsChange,
  readAllStateDirs,
  readStateDir,
  State,
  type StateDir,
} from "@concord/relation-hooks";
import { parse } from "yaml";
import type { Suite } from "../types";

type Json = unknown;
type Obj = Record<string, Json>;

/** A case step failed: `message` becomes the case's failure reason. */
class Mismatch extends Error {}

const isObj = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: Json) => JSON.stringify(v);

function fail(message: string): never {
  throw new Mismatch(message);
}

function obj(v: Json, what: string): Obj {
  if (!isObj(v)) fail(`${what}: expected an object, got ${show(v)}`);
  return v;
}

function versions(v: Json, what: string): Record<string, number> {
  const o = obj(v ?? {}, what);
  for (const [k, n] of Object.entries(o)) {
    if (typeof n !== "number") fail(`${what}.${k}: expected a number, got ${show(n)}`);
  }
  return o as Record<string, number>;
}

export const suite: Suite = async (doc, report) => {
  const cases = obj(doc, "case file").cases;
  if (!Array.isArray(cases)) fail("case file has no 'cases' list");
  for (const raw of cases) {
    const c = obj(raw, "case");
    const id = String(c.id);
    const name = String(c.name);
    const base = await mkdtemp(join(tmpdir(), `concord-${id}-`));
    try {
      if (c.suite === "hooks") await runHooksCase(c, base);
      else if (c.suite === "state") await runStateCase(c, base);
      else if (c.suite === "statedir") await runStateDirCase(c, base);
      else fail(`unknown suite ${show(c.suite)}`);
      report({ id, name });
    } catch (err) {
      const message =
        err instanceof Mismatch ? err.message : `unexpected error: ${(err as Error).message ?? err}`;
      report({ id, name, failure: message });
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }
};

// ---- conversions -------------------------------------------------------------------------------------

function toChange(v: Json): RelationUnitsChange {
  const o = obj(v, "change");
  const changed: Record<string, { version: number }> = {};
  for (const [unit, version] of Object.entries(versions(o.changed, "change.changed")))
    changed[unit] = { version };
  const departed = o.departed ?? [];
  if (!Array.isArray(departed)) fail(`change.departed: expected a list, got ${show(departed)}`);
  return { changed, appChanged: versions(o.appChanged, "change.appChanged"), departed: departed.map(String) };
}

function toHook(v: Json, relationId: number): HookInfo {
  const o = obj(v, "hook");
  const kind = String(o.kind);
  if (!isHookKind(kind)) fail(`unknown hook kind ${show(kind)}`);
  return {
    kind,
    relationId: typeof o.relationId === "number" ? o.relationId : relationId,
    remoteUnit: String(o.remoteUnit ?? ""),
    remoteApplication: typeof o.remoteApp === "string" ? o.remoteApp : "",
    changeVersion: Number(o.changeVersion ?? 0),
  };
}

function showHook(h: HookInfo): string {
  return `${h.kind} ${show(h.remoteUnit)} app=${show(h.remoteApplication)} v=${h.changeVersion}`;
}

function sameHook(got: HookInfo, want: Obj): boolean {
  return (
    got.kind === want.kind &&
    got.remoteUnit === want.remoteUnit &&
    got.changeVersion === want.changeVersion &&
    (want.remoteApp === null || want.remoteApp === undefined || got.remoteApplication === want.remoteApp)
  );
}

// ---- State --------------------------------------------------------------------------------------------

interface InitialState {
  relationId: number;
  members: Record<string, number>;
  changedPending: string;
  appMembers: Record<string, number>;
}

function toInitial(v: Json): InitialState {
  const o = obj(v, "initial");
  if (typeof o.relationId !== "number") fail(`initial.relationId: expected a number`);
  return {
    relationId: o.relationId,
    members: versions(o.members, "initial.members"),
    changedPending: String(o.changedPending ?? ""),
    appMembers: versions(o.appMembers, "initial.appMembers"),
  };
}

/** Commits hooks through the StateDir until it holds `initial` on disk. */
async function seed(base: string, initial: InitialState): Promise<StateDir> {
  const { relationId: id, members, changedPending, appMembers } = initial;
  const dir = await readStateDir(base, id);
  await dir.ensure();
  const hook = (kind: HookInfo["kind"], unit: string, version: number): HookInfo => ({
    kind,
    relationId: id,
    remoteUnit: unit,
    remoteApplication: unit.split("/")[0]!,
    changeVersion: version,
  });
  for (const [app, v] of Object.entries(appMembers)) {
    await dir.write({ ...hook("relation-changed", "", v), remoteApplication: app });
  }
  for (const [unit, v] of Object.entries(members)) {
    if (unit !== changedPending) await dir.write(hook("relation-changed", unit, v));
  }
  if (changedPending !== "")
    await dir.write(hook("relation-joined", changedPending, members[changedPending] ?? 0));
  return dir;
}

/** Compares a state with an expected {members, changedPending, appMembers?}; appMembers only if present. */
function checkState(what: string, got: State, want: Obj): void {
  const data = got.toData();
  const wantMembers = want.members === null ? null : versions(want.members, `${what}.members`);
  if (!isDeepStrictEqual(data.members, wantMembers)) {
    fail(`${what}: members ${show(data.members)}, want ${show(wantMembers)}`);
  }
  if (data.changedPending !== String(want.changedPending ?? "")) {
    fail(`${what}: changedPending ${show(data.changedPending)}, want ${show(want.changedPending)}`);
  }
  if (want.appMembers !== undefined) {
    const wantApps = versions(want.appMembers, `${what}.appMembers`);
    if (!isDeepStrictEqual(data.applicationMembers, wantApps)) {
      fail(`${what}: appMembers ${show(data.applicationMembers)}, want ${show(wantApps)}`);
    }
  }
}

// ---- suite "hooks" ------------------------------------------------------------------------------------

async function runHooksCase(c: Obj, base: string): Promise<void> {
  const initial = toInitial(c.initial);
  let dir = await seed(base, initial);
  let source: HookSource = new LiveHookSource(dir.state());
  const steps = c.steps;
  if (!Array.isArray(steps)) fail("steps: expected a list");
  for (const [i, rawStep] of steps.entries()) {
    const step = obj(rawStep, `step ${i}`);
    const at = `step ${i}`;
    if ("change" in step) {
      const change = toChange(step.change);
      if (typeof step.error === "string") {
        const wasEmpty = source.empty();
        let message: string | undefined;
        try {
          source.update(change);
        } catch (err) {
          message = (err as Error).message;
        }
        if (message === undefined) fail(`${at}: change accepted, want error containing ${show(step.error)}`);
        if (!message.includes(step.error))
          fail(`${at}: error ${show(message)}, want it to contain ${show(step.error)}`);
        if (wasEmpty && !source.empty()) fail(`${at}: a rejected change queued hooks`);
      } else {
        source.update(change);
      }
    } else if ("expect" in step) {
      const want = step.expect;
      if (!Array.isArray(want)) fail(`${at}: expect must be a list`);
      if (want.length === 0 && !source.empty()) fail(`${at}: want no hooks, got ${showHook(source.next())}`);
      for (const [j, w] of want.entries()) {
        const wantHook = obj(w, `${at} hook ${j}`);
        if (source.empty()) fail(`${at}: hook ${j}: source empty, want ${show(wantHook)}`);
        const got = source.next();
        if (!sameHook(got, wantHook)) fail(`${at}: hook ${j}: got ${showHook(got)}, want ${show(wantHook)}`);
        source.pop();
        try {
          dir.validate(got);
        } catch (err) {
          fail(`${at}: hook ${j} (${showHook(got)}) rejected: ${(err as Error).message}`);
        }
        await dir.write(got);
      }
    } else if (step.dying === true) {
      source = new DyingHookSource(dir.state());
    } else if (step.restart === true) {
      dir = await readStateDir(base, initial.relationId);
      source = new LiveHookSource(dir.state());
    } else if ("state" in step) {
      const want = obj(step.state, `${at}.state`);
      checkState(`${at}: committed state`, dir.state(), want);
      // What a restart would read must be the same.
      checkState(`${at}: state on disk`, (await readStateDir(base, initial.relationId)).state(), want);
    } else {
      fail(`${at}: unknown step ${show(step)}`);
    }
  }
}

// ---- suite "state" ------------------------------------------------------------------------------------

async function runStateCase(c: Obj, base: string): Promise<void> {
  const initial = toInitial(c.initial);
  const dir = await seed(base, initial);
  const pure = State.from({
    relationId: initial.relationId,
    members: initial.members,
    applicationMembers: initial.appMembers,
    changedPending: initial.changedPending,
  });
  const steps = c.steps;
  if (!Array.isArray(steps)) fail("steps: expected a list");
  for (const [i, rawStep] of steps.entries()) {
    const step = obj(rawStep, `step ${i}`);
    const at = `step ${i}`;
    if ("apply" in step) {
      const hook = toHook(step.apply, initial.relationId);
      for (const [what, validate] of [
        ["State", () => pure.validate(hook)],
        ["StateDir", () => dir.validate(hook)],
      ] as const) {
        try {
          validate();
        } catch (err) {
          fail(`${at}: ${what} rejected ${showHook(hook)}: ${(err as Error).message}`);
        }
      }
      for (let n = 0; n < 2; n++) {
        pure.apply(hook);
        await dir.write(hook);
      }
    } else if ("reject" in step) {
      const hook = toHook(step.reject, initial.relationId);
      const want = String(step.error);
      for (const [what, validate] of [
        ["State", () => pure.validate(hook)],
        ["StateDir", () => dir.validate(hook)],
      ] as const) {
        let message: string | undefined;
        try {
          validate();
        } catch (err) {
          message = (err as Error).message;
        }
        if (message === undefined) fail(`${at}: ${what} accepted ${showHook(hook)}, want ${show(want)}`);
        if (message !== want) fail(`${at}: ${what} error ${show(message)}, want ${show(want)}`);
      }
    } else {
      fail(`${at}: unknown step ${show(step)}`);
    }
  }
  const final = obj(c.final, "final");
  checkState("final State", pure, final);
  checkState("final StateDir", dir.state(), final);
  const exists = await stat(join(base, String(initial.relationId))).then(
    () => true,
    () => false,
  );
  if (final.removed === true && exists) fail("final: state directory still exists, want removed");
  if (final.removed === false && !exists) fail("final: state directory was removed");
  if (final.removed !== true)
    checkState("final state on disk", (await readStateDir(base, initial.relationId)).state(), final);
}

// ---- suite "statedir" ---------------------------------------------------------------------------------

async function makeTree(path: string, tree: Obj): Promise<void> {
  for (const [name, entry] of Object.entries(tree)) {
    const p = join(path, name);
    if (typeof entry === "string") await writeFile(p, entry);
    else {
      await mkdir(p);
      await makeTree(p, obj(entry, `tree ${name}`));
    }
  }
}

async function readTree(path: string): Promise<Obj> {
  const out: Obj = {};
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    out[entry.name] = entry.isDirectory() ? await readTree(p) : await readFile(p, "utf8");
  }
  return out;
}

/** Compares trees: same entries, directories as objects, file contents as parsed YAML. */
function treeDiff(got: Obj, want: Obj, at: string): string | undefined {
  const gotNames = Object.keys(got).sort();
  const wantNames = Object.keys(want).sort();
  if (!isDeepStrictEqual(gotNames, wantNames))
    return `${at || "/"}: entries ${show(gotNames)}, want ${show(wantNames)}`;
  for (const name of wantNames) {
    const g = got[name];
    const w = want[name];
    const p = `${at}/${name}`;
    if (typeof w === "string") {
      if (typeof g !== "string") return `${p}: is a directory, want a file`;
      let gy: Json;
      try {
        gy = parse(g);
      } catch {
        return `${p}: content ${show(g)} is not YAML`;
      }
      if (!isDeepStrictEqual(gy, parse(w))) return `${p}: content ${show(g)}, want ${show(w)}`;
    } else {
      if (!isObj(g)) return `${p}: is a file, want a directory`;
      const d = treeDiff(g, obj(w, p), p);
      if (d !== undefined) return d;
    }
  }
  return undefined;
}

async function checkTree(base: string, want: Json, what: string): Promise<void> {
  const d = treeDiff(await readTree(base), obj(want, `${what} expectTree`), "");
  if (d !== undefined) fail(`${what}: tree ${d}`);
}

async function runStateDirCase(c: Obj, base: string): Promise<void> {
  await makeTree(base, obj(c.tree ?? {}, "tree"));
  const relationId = Number(c.relationId);
  const op = c.op;
  let run: () => Promise<void>;
  switch (op) {
    case "ReadStateDir":
      run = async () => {
        const dir = await readStateDir(base, relationId);
        if (c.expect !== undefined) checkState("state", dir.state(), obj(c.expect, "expect"));
      };
      break;
    case "ReadAllStateDirs":
      run = async () => {
        const dirs = await readAllStateDirs(join(base, String(c.dir ?? "")));
        if (c.expect === undefined) return;
        const want = obj(c.expect, "expect");
        const gotIds = [...dirs.keys()].map(String).sort();
        const wantIds = Object.keys(want).sort();
        if (!isDeepStrictEqual(gotIds, wantIds)) fail(`relations ${show(gotIds)}, want ${show(wantIds)}`);
        for (const id of wantIds)
          checkState(`relation ${id}`, dirs.get(Number(id))!.state(), obj(want[id], id));
      };
      break;
    case "Remove":
      run = async () => {
        const dir = await readStateDir(base, relationId);
        const repeat = typeof c.repeat === "number" ? c.repeat : 1;
        for (let n = 0; n < repeat; n++) await dir.remove();
        if (c.expect !== undefined && c.expect !== "ok") fail(`unknown Remove expectation ${show(c.expect)}`);
      };
      break;
    case "Write":
      run = async () => {
        const dir = await readStateDir(base, relationId);
        const steps = [
          { hooks: c.hooks, expect: c.expect, expectTree: c.expectTree },
          ...((c.then as Json[]) ?? []),
        ];
        for (const [i, rawStep] of steps.entries()) {
          const step = obj(rawStep, `write step ${i}`);
          const hooks = step.hooks ?? [];
          if (!Array.isArray(hooks)) fail(`write step ${i}: hooks must be a list`);
          for (const h of hooks) await dir.write(toHook(h, relationId));
          const what = i === 0 ? "after hooks" : `after then[${i - 1}]`;
          if (step.expect !== undefined) checkState(what, dir.state(), obj(step.expect, "expect"));
          if (step.expectTree !== undefined) await checkTree(base, step.expectTree, what);
        }
      };
      break;
    default:
      fail(`unknown op ${show(op)}`);
  }
  if (typeof c.errorContains === "string") {
    let message: string | undefined;
    try {
      await run();
    } catch (err) {
      if (err instanceof Mismatch) throw err;
      message = (err as Error).message;
    }
    if (message === undefined) fail(`${op} succeeded, want error containing ${show(c.errorContains)}`);
    if (!message.includes(c.errorContains))
      fail(`error ${show(message)}, want it to contain ${show(c.errorContains)}`);
  } else {
    await run();
  }
  if (op !== "Write" && c.expectTree !== undefined) await checkTree(base, c.expectTree, "after op");
}
