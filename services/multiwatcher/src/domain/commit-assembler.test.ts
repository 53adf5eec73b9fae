import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommitAssembler } from "./commit-assembler";

describe("CommitAssembler", () => {
  it("passes single-event commits straight through", () => {
    const a = new CommitAssembler<string>();
    assert.deepEqual(a.add({ commitId: "", commitIndex: 0, commitSize: 0 }, "x"), ["x"]);
    assert.deepEqual(a.add({ commitId: "c", commitIndex: 0, commitSize: 1 }, "y"), ["y"]);
  });

  it("completes a commit on its last event, with other commits interleaved", () => {
    const a = new CommitAssembler<string>();
    assert.equal(a.add({ commitId: "c1", commitIndex: 0, commitSize: 3 }, "1a"), undefined);
    assert.equal(a.add({ commitId: "c2", commitIndex: 0, commitSize: 2 }, "2a"), undefined);
    assert.equal(a.add({ commitId: "c1", commitIndex: 1, commitSize: 3 }, "1b"), undefined);
    assert.deepEqual(a.add({ commitId: "c2", commitIndex: 1, commitSize: 2 }, "2b"), ["2a", "2b"]);
    assert.deepEqual(a.add({ commitId: "c1", commitIndex: 2, commitSize: 3 }, "1c"), ["1a", "1b", "1c"]);
    assert.equal(a.pendingCommits, 0);
  });

  it("completes a commit whose first events came before the starting point", () => {
    const a = new CommitAssembler<string>();
    assert.deepEqual(a.add({ commitId: "c", commitIndex: 2, commitSize: 3 }, "last"), ["last"]);
  });

  it("drops incomplete commits on clear", () => {
    const a = new CommitAssembler<string>();
    a.add({ commitId: "c", commitIndex: 0, commitSize: 2 }, "a");
    a.clear();
    assert.equal(a.pendingCommits, 0);
    assert.deepEqual(a.add({ commitId: "c", commitIndex: 1, commitSize: 2 }, "b"), ["b"]);
  });
});
