import assert from "node:assert/strict";
import { test } from "node:test";
import { EndpointRole, EndpointScope } from "@concord/proto/relation/v1/relation";
import { CliError } from "./errors";
import { parseMetadata } from "./metadata";

test("reads provides, requires and peers, long and short forms", () => {
  const meta = parseMetadata(`
name: wordpress
subordinate: false
provides:
  website: http
requires:
  db:
    interface: mysql
    limit: 1
    optional: true
  logs:
    interface: syslog
    scope: container
peers:
  cluster: { interface: wp-cluster }
`);
  assert.equal(meta.name, "wordpress");
  assert.equal(meta.subordinate, false);
  assert.deepEqual(meta.endpoints, [
    {
      name: "website",
      role: EndpointRole.PROVIDER,
      interface: "http",
      scope: EndpointScope.GLOBAL,
      limit: 0,
      optional: false,
    },
    {
      name: "db",
      role: EndpointRole.REQUIRER,
      interface: "mysql",
      scope: EndpointScope.GLOBAL,
      limit: 1,
      optional: true,
    },
    {
      name: "logs",
      role: EndpointRole.REQUIRER,
      interface: "syslog",
      scope: EndpointScope.CONTAINER,
      limit: 0,
      optional: false,
    },
    {
      name: "cluster",
      role: EndpointRole.PEER,
      interface: "wp-cluster",
      scope: EndpointScope.GLOBAL,
      limit: 0,
      optional: false,
    },
  ]);
});

test("a subordinate charm and an empty file", () => {
  assert.equal(parseMetadata("subordinate: true\n").subordinate, true);
  assert.deepEqual(parseMetadata(""), { subordinate: false, endpoints: [] });
});

test("mistakes are usage errors naming the field", () => {
  const cases: [string, RegExp][] = [
    ["provides: [a, b]", /`provides` must map endpoint names/],
    ["requires:\n  db: {limit: 1}", /requires\.db\.interface is missing/],
    [
      "requires:\n  db: {interface: mysql, scope: machine}",
      /requires\.db\.scope must be global or container/,
    ],
    ["requires:\n  db: {interface: mysql, limit: -1}", /requires\.db\.limit must be a whole number/],
    ["provides:\n  db: mysql\nrequires:\n  db: mysql", /endpoint "db" is declared twice/],
    ["subordinate: yes please", /`subordinate` must be true or false/],
    ["provides: {a: 1", /not valid YAML/],
    ["- a", /must be a YAML mapping/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseMetadata(text, "m.yaml"),
      (err) => err instanceof CliError && err.exitCode === 2 && message.test(err.message),
      text,
    );
  }
});
