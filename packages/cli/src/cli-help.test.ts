import assert from "node:assert/strict";
import { test } from "node:test";
import { run } from "./cli";
import { COMMANDS } from "./commands";
import type { Io } from "./types";

/** Runs concord in process with captured output and no controller. */
async function runIn(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t) },
    env: { CONCORD_DATA: "/nonexistent/concord", CONCORD_CONTROLLER: "127.0.0.1:1" },
    cwd: "/",
    signal: new AbortController().signal,
  };
  const code = await run(argv, io);
  return { code, stdout: out.join(""), stderr: err.join("") };
}

test("every command has --help, -h and `concord help <command>`", async () => {
  for (const c of COMMANDS) {
    for (const argv of [
      [c.name, "--help"],
      [c.name, "-h"],
      ["help", c.name],
    ]) {
      const r = await runIn(...argv);
      assert.equal(r.code, 0, argv.join(" "));
      assert.match(r.stdout, new RegExp(`^Usage: concord ${c.name}\\b`), argv.join(" "));
      assert.match(r.stdout, /--controller/);
    }
  }
  const main = await runIn("help");
  assert.equal(main.code, 0);
  for (const c of COMMANDS)
    assert.match(main.stdout, new RegExp(`^ {2}${c.name} +${c.summary.replace(/[*.]/g, "\\$&")}$`, "m"));
});

test("usage mistakes exit 2 without contacting the controller", async () => {
  const cases: [string[], RegExp][] = [
    [[], /^concord drives/],
    [["deploy"], /^ERROR missing arguments\nusage: concord deploy/],
    [["status", "extra"], /^ERROR unexpected argument "extra"/],
    [["status", "--format", "xml"], /^ERROR --format must be tabular, json or yaml/],
    [["integrate", "--format", "json", "a", "b"], /^ERROR Unknown option '--format'/],
    [["add-unit", "wordpress", "-n", "two"], /^ERROR --num-units must be a whole number/],
    [["remove-unit", "wordpress"], /^ERROR "wordpress" is not a unit name/],
    [["integrate", "Word Press", "mysql"], /^ERROR "Word Press" is not an endpoint/],
    [["token", "mint", "admin"], /^ERROR unknown token action "mint"/],
    [["stauts"], /did you mean `concord status`\?/],
  ];
  for (const [argv, message] of cases) {
    const r = await runIn(...argv);
    assert.equal(r.code, 2, argv.join(" "));
    assert.match(r.stderr, message, argv.join(" "));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test("without a token or a reachable controller the exit code is 3", async () => {
  const noToken = await runIn("models");
  assert.equal(noToken.code, 3);
  assert.match(
    noToken.stderr,
    /^ERROR no token: \/nonexistent\/concord\/admin.token does not exist\nstart the controller/,
  );
  const noSecret = await runIn("token", "issue", "admin");
  assert.equal(noSecret.code, 2);
  assert.match(noSecret.stderr, /no token secret/);
  const unreachable = await runIn("models", "--token", "x");
  assert.equal(unreachable.code, 3);
  assert.match(unreachable.stderr, /^ERROR cannot reach the controller/);
});
