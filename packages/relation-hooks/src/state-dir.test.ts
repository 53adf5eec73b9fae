import assert from "node:assert/strict";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { applicationChangedHook, HookKind, relationHook, unitHook } from "./hook";
import { memberFileContent, readAllStateDirs, readStateDir } from "./state-dir";
import { tempDir } from "./testing";

const { RelationJoined: joined, RelationChanged: changed, RelationDeparted: departed } = HookKind;

let base: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: base, cleanup } = await tempDir());
});
afterEach(() => cleanup());

async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(join(dir, name), "utf8");
  return out;
}

async function seedFiles(relationId: number, content: Record<string, string>): Promise<string> {
  const dir = join(base, String(relationId));
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(content)) await writeFile(join(dir, name), text);
  return dir;
}

describe("readStateDir", () => {
  test("a missing directory is an empty state and nothing is created", async () => {
    const dir = await readStateDir(base, 5);
    assert.deepEqual(dir.state().toData(), {
      relationId: 5,
      members: {},
      applicationMembers: {},
      changedPending: "",
    });
    assert.deepEqual(await readdir(base), []);
  });

  test("unit and application files count, everything else is ignored", async () => {
    await seedFiles(5, {
      "foo-bar-1": "change-version: 99\n",
      "foo-bar-1.preparing": "garbage: [",
      "baz-7": "change-version: 101\nchanged-pending: true\n",
      "mysql-app": "change-version: 4\n",
      ".baz-7.tmp": "chan",
      nonsensical: "blah",
      "27": "blah",
    });
    await mkdir(join(base, "5", "ignored"));
    assert.deepEqual((await readStateDir(base, 5)).state().toData(), {
      relationId: 5,
      members: { "baz/7": 101, "foo-bar/1": 99 },
      applicationMembers: { mysql: 4 },
      changedPending: "baz/7",
    });
  });

  test("errors name the file and are wrapped with the directory", async () => {
    const dir = await seedFiles(5, { "foo-1": "blah: blah\n" });
    await assert.rejects(readStateDir(base, 5), {
      message: `cannot load relation state from "${dir}": invalid unit file "foo-1": "changed-version" not set`,
    });
    await writeFile(join(dir, "foo-1"), "'");
    await assert.rejects(readStateDir(base, 5), { message: /invalid unit file "foo-1": ./ });
    await writeFile(join(dir, "foo-1"), "change-version: x\n");
    await assert.rejects(readStateDir(base, 5), {
      message: /invalid unit file "foo-1": change-version is not an integer/,
    });
  });

  test("two pending units are refused, named in reading order", async () => {
    await seedFiles(5, {
      "foo-2": "change-version: 1\nchanged-pending: true\n",
      "foo-1": "change-version: 1\nchanged-pending: true\n",
    });
    await assert.rejects(readStateDir(base, 5), {
      message: /"foo\/1" and "foo\/2" both have pending changed hooks/,
    });
  });

  test("a directory with a unit-file name is an error", async () => {
    await mkdir(join(base, "5", "foo-1"), { recursive: true });
    await assert.rejects(readStateDir(base, 5), { message: /is a directory/ });
  });
});

describe("readAllStateDirs", () => {
  test("loads integer-named directories only; a missing dir gives none", async () => {
    assert.equal((await readAllStateDirs(join(base, "nope"))).size, 0);
    await seedFiles(1, { "foo-0": "change-version: 1\n" });
    await seedFiles(22, {});
    await mkdir(join(base, "onethousand"));
    await writeFile(join(base, "foo-bar-123"), "gibberish");
    const dirs = await readAllStateDirs(base);
    assert.deepEqual([...dirs.keys()], [1, 22]);
    assert.deepEqual(dirs.get(1)?.state().toData().members, { "foo/0": 1 });
  });

  test("errors are wrapped twice; an integer-named file fails", async () => {
    await seedFiles(1, { "bad-0": "" });
    await assert.rejects(readAllStateDirs(base), {
      message: `cannot load relations state from "${base}": cannot load relation state from "${join(base, "1")}": invalid unit file "bad-0": "changed-version" not set`,
    });
    const other = join(base, "other");
    await mkdir(other);
    await writeFile(join(other, "3"), "x");
    await assert.rejects(readAllStateDirs(other), { message: /cannot load relations state from/ });
  });
});

describe("StateDir.write", () => {
  test("writes Concord's exact bytes and keeps memory and disk in step", async () => {
    const dir = await readStateDir(base, 9);
    await dir.ensure();
    assert.equal((await stat(dir.path)).mode & 0o777, 0o755);
    await dir.write(unitHook(joined, 9, "foo/3", 5));
    await dir.write(applicationChangedHook(9, "foo", 2));
    assert.deepEqual(await files(dir.path), {
      "foo-3": "change-version: 5\nchanged-pending: true\n",
      "foo-app": "change-version: 2\n",
    });
    await dir.write(unitHook(changed, 9, "foo/3", 6));
    assert.equal(await readFile(join(dir.path, "foo-3"), "utf8"), memberFileContent(6, false));
    assert.deepEqual(dir.state().toData(), (await readStateDir(base, 9)).state().toData());
    await dir.write(unitHook(departed, 9, "foo/3", 6));
    await dir.write(unitHook(departed, 9, "foo/4", 0));
    assert.deepEqual(await files(dir.path), { "foo-app": "change-version: 2\n" });
    assert.deepEqual(dir.state().toData().members, {});
  });

  test("needs the directory and wraps the error", async () => {
    const dir = await readStateDir(base, 9);
    await assert.rejects(dir.write(unitHook(joined, 9, "foo/3", 5)), {
      message: /^failed to write "relation-joined" hook info for "foo\/3" on state directory: /,
    });
    assert.deepEqual(dir.state().toData().members, {});
  });

  test("broken removes application files and the directory; removal is idempotent", async () => {
    const dir = await readStateDir(base, 9);
    await dir.ensure();
    await dir.write(applicationChangedHook(9, "foo", 2));
    await dir.write(relationHook(HookKind.RelationBroken, 9, "foo"));
    await dir.remove();
    assert.deepEqual(await readdir(base), []);
    assert.equal(dir.state().members, null);
    assert.throws(
      () => dir.validate(unitHook(joined, 9, "foo/1", 0)),
      /relation is broken and cannot be changed further/,
    );
  });

  test("remove refuses a directory that still has unit files", async () => {
    await seedFiles(9, { "foo-1": "change-version: 0\n" });
    const dir = await readStateDir(base, 9);
    await assert.rejects(dir.remove(), { message: /directory not empty/ });
    assert.deepEqual(dir.state().toData().members, { "foo/1": 0 });
  });
});

describe("StateDir crash safety", () => {
  test("a half-written temporary file left by a crash is ignored, then replaced", async () => {
    const path = await seedFiles(9, {
      "foo-1": "change-version: 3\n",
      ".foo-1.tmp": "change-ver",
      ".foo-app.tmp": "",
    });
    const dir = await readStateDir(base, 9);
    assert.deepEqual(dir.state().toData().members, { "foo/1": 3 });
    await dir.write(unitHook(changed, 9, "foo/1", 4));
    assert.deepEqual(await files(path), { ".foo-app.tmp": "", "foo-1": "change-version: 4\n" });
  });

  test("a write that fails before the rename leaves the old file and the state intact", async () => {
    // A directory where the temporary file goes makes the write fail before anything is renamed.
    const path = await seedFiles(9, { "foo-1": "change-version: 3\n" });
    await mkdir(join(path, ".foo-1.tmp"));
    const dir = await readStateDir(base, 9);
    await assert.rejects(dir.write(unitHook(changed, 9, "foo/1", 4)), /failed to write "relation-changed"/);
    assert.equal(await readFile(join(path, "foo-1"), "utf8"), "change-version: 3\n");
    assert.deepEqual(dir.state().toData().members, { "foo/1": 3 });
  });

  test("no temporary file remains after a write", async () => {
    const dir = await readStateDir(base, 9);
    await dir.ensure();
    for (let v = 0; v < 3; v++) await dir.write(unitHook(changed, 9, "foo/1", v));
    assert.deepEqual(await readdir(dir.path), ["foo-1"]);
  });

  test("remove clears temporary leftovers so broken can always complete", async () => {
    await seedFiles(9, { ".foo-1.tmp": "change-ver" });
    const dir = await readStateDir(base, 9);
    await dir.remove();
    assert.deepEqual(await readdir(base), []);
  });
});
