import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { PingService } from "@concord/proto/common/v1/common";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "@concord/proto/grpc/health/v1/health";
import { EchoService } from "@concord/proto/testing/v1/testing";
import {
  Code,
  ConcordError,
  ConcordServer,
  createClient,
  createLogger,
  errors,
  Metrics,
  TokenAuthority,
} from "./index";

const tokens = new TokenAuthority("a-test-secret-of-enough-length");
const metrics = new Metrics();
const server = new ConcordServer({
  name: "kit-test",
  logger: createLogger("kit-test", "silent"),
  metrics,
  tokens,
  shutdownGraceMs: 2000,
});
server.add(EchoService, {
  async echo(req, ctx) {
    if (req.delayMs) await delay(req.delayMs, undefined, { signal: ctx.signal }).catch(() => {});
    if (req.failKind === "Boom") throw new Error("a bug");
    if (req.failKind) throw errors.notFound(req.failKind, `no ${req.text}`, { hint: "x" });
    return { text: req.text, caller: ctx.identity.tag };
  },
  async *count(req, ctx) {
    for (let i = 0; i < req.count && !ctx.signal.aborted; i++) {
      yield { value: i };
      if (req.delayMs) await delay(req.delayMs, undefined, { signal: ctx.signal }).catch(() => {});
    }
  },
});
let address = "";

before(async () => {
  address = `127.0.0.1:${await server.listen("127.0.0.1:0")}`;
});
after(() => server.shutdown());

describe("gRPC kit over a real socket", () => {
  test("a call without a token is UNAUTHENTICATED", async () => {
    const client = createClient(PingService, address);
    await assert.rejects(client.ping({}), (e: ConcordError) => e.code === Code.UNAUTHENTICATED);
    client.close();
  });

  test("a forged token is UNAUTHENTICATED", async () => {
    const forged = await new TokenAuthority("another-secret-of-enough-len").issue("admin");
    const client = createClient(PingService, address, { token: forged });
    await assert.rejects(client.ping({}), (e: ConcordError) => e.code === Code.UNAUTHENTICATED);
    client.close();
  });

  test("a valid token reaches the handler with its identity", async () => {
    const client = createClient(EchoService, address, { token: await tokens.issue("unit-wordpress-0") });
    assert.deepEqual((await client.echo({ text: "hi" })).caller, "unit-wordpress-0");
    client.close();
  });

  test("a ConcordError arrives with its code, kind and details", async () => {
    const client = createClient(EchoService, address, { token: await tokens.issue("admin") });
    const err = await client.echo({ text: "relation 7", failKind: "RelationNotFound" }).catch((e) => e);
    assert.ok(err instanceof ConcordError);
    assert.equal(err.code, Code.NOT_FOUND);
    assert.equal(err.kind, "RelationNotFound");
    assert.equal(err.message, "no relation 7");
    assert.deepEqual(err.details, { hint: "x" });
    client.close();
  });

  test("any other exception is INTERNAL", async () => {
    const client = createClient(EchoService, address, { token: await tokens.issue("admin") });
    const err = await client.echo({ failKind: "Boom" }).catch((e) => e);
    assert.equal(err.code, Code.INTERNAL);
    assert.equal(err.kind, "Internal");
    client.close();
  });

  test("deadlines are honoured", async () => {
    const client = createClient(EchoService, address, { token: await tokens.issue("admin") });
    const err = await client.echo({ delayMs: 5000 }, { deadline: 50 }).catch((e) => e);
    assert.equal(err.code, Code.DEADLINE_EXCEEDED);
    client.close();
  });

  test("server streams deliver every message and can be cancelled", async () => {
    const client = createClient(EchoService, address, { token: await tokens.issue("admin") });
    const values: number[] = [];
    for await (const m of client.count({ count: 5 })) values.push(m.value);
    assert.deepEqual(values, [0, 1, 2, 3, 4]);
    const ac = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      async () => {
        for await (const m of client.count({ count: 1000, delayMs: 5 }, { signal: ac.signal })) {
          seen.push(m.value);
          if (seen.length === 3) ac.abort();
        }
      },
      (e: ConcordError) => e.code === Code.CANCELLED,
    );
    assert.equal(seen.length, 3);
    client.close();
  });

  test("health is open and per service; unknown services are NOT_FOUND", async () => {
    const health = createClient(Health, address);
    assert.equal((await health.check({ service: "" })).status, ServingStatus.SERVING);
    assert.equal(
      (await health.check({ service: "concord.testing.v1.EchoService" })).status,
      ServingStatus.SERVING,
    );
    await assert.rejects(health.check({ service: "nope" }), (e: ConcordError) => e.code === Code.NOT_FOUND);
    health.close();
  });

  test("metrics count calls per method and code", async () => {
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /concord_grpc_server_handled_total\{service="concord.testing.v1.EchoService",method="Echo",type="unary",code="NOT_FOUND"\} 1/,
    );
    assert.match(text, /nodejs_eventloop_lag_seconds/);
  });
});

test("shutdown ends open streams with UNAVAILABLE and reports NOT_SERVING", async () => {
  const s = new ConcordServer({
    name: "t",
    logger: createLogger("t", "silent"),
    metrics: new Metrics(),
    tokens,
  });
  s.add(EchoService, {
    echo: async (r) => ({ text: r.text }),
    async *count(_req, ctx) {
      yield { value: 0 };
      await new Promise((r) => ctx.signal.addEventListener("abort", r, { once: true }));
    },
  });
  const addr = `127.0.0.1:${await s.listen("127.0.0.1:0")}`;
  const client = createClient(EchoService, addr, { token: await tokens.issue("admin") });
  const health = createClient(Health, addr);
  const watch = health.watch({ service: "" })[Symbol.asyncIterator]();
  assert.equal((await watch.next()).value?.status, ServingStatus.SERVING);
  const stream = client.count({ count: 1 })[Symbol.asyncIterator]();
  assert.equal((await stream.next()).value?.value, 0);
  const stopping = s.shutdown();
  assert.equal((await watch.next()).value?.status, ServingStatus.NOT_SERVING);
  await assert.rejects(
    stream.next(),
    (e: ConcordError) => e.code === Code.UNAVAILABLE && e.kind === "ShuttingDown",
  );
  await stopping;
  client.close();
  health.close();
});

test("a proxy forwards calls, streams, errors and the caller's token to the backend", async () => {
  const backend = new ConcordServer({
    name: "backend",
    logger: createLogger("b", "silent"),
    metrics: new Metrics(),
    tokens,
  });
  backend.add(EchoService, {
    async echo(req, ctx) {
      if (req.failKind) throw errors.notFound(req.failKind, `no ${req.text}`);
      return { text: req.text, caller: ctx.identity.tag };
    },
    async *count(req) {
      for (let i = 0; i < req.count; i++) yield { value: i };
    },
  });
  const backendAddr = `127.0.0.1:${await backend.listen("127.0.0.1:0")}`;
  const gateway = new ConcordServer({
    name: "gateway",
    logger: createLogger("g", "silent"),
    metrics: new Metrics(),
    tokens,
  });
  gateway.addProxy(EchoService, backendAddr);
  const gatewayAddr = `127.0.0.1:${await gateway.listen("127.0.0.1:0")}`;
  const client = createClient(EchoService, gatewayAddr, { token: await tokens.issue("unit-mysql-1") });
  assert.equal((await client.echo({ text: "via" })).caller, "unit-mysql-1");
  const err = await client.echo({ text: "x", failKind: "RelationNotFound" }).catch((e) => e);
  assert.equal(err.code, Code.NOT_FOUND);
  assert.equal(err.kind, "RelationNotFound");
  const values: number[] = [];
  for await (const m of client.count({ count: 3 })) values.push(m.value);
  assert.deepEqual(values, [0, 1, 2]);
  const anonymous = createClient(EchoService, gatewayAddr);
  await assert.rejects(anonymous.echo({ text: "x" }), (e: ConcordError) => e.code === Code.UNAUTHENTICATED);
  client.close();
  anonymous.close();
  await gateway.shutdown();
  await backend.shutdown();
});

test("a proxy spreads calls over every address of its target (round_robin) and accepts dns:/// targets", async () => {
  const backends = ["b1", "b2"].map((name) => {
    const b = new ConcordServer({
      name,
      logger: createLogger(name, "silent"),
      metrics: new Metrics(),
      tokens,
    });
    b.add(EchoService, {
      async echo() {
        return { text: name };
      },
      async *count() {},
    });
    return b;
  });
  const ports = await Promise.all(backends.map((b) => b.listen("127.0.0.1:0")));
  const gateway = new ConcordServer({
    name: "gateway",
    logger: createLogger("g", "silent"),
    metrics: new Metrics(),
    tokens,
  });
  // One target naming two addresses, as a headless Service's name resolves to every pod.
  gateway.addProxy(EchoService, `ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(",")}`);
  const viaDns = new ConcordServer({
    name: "gateway-dns",
    logger: createLogger("g", "silent"),
    metrics: new Metrics(),
    tokens,
  });
  viaDns.addProxy(EchoService, `dns:///localhost:${ports[0]}`);
  const token = await tokens.issue("unit-mysql-1");
  const client = createClient(EchoService, `127.0.0.1:${await gateway.listen("127.0.0.1:0")}`, { token });
  const dnsClient = createClient(EchoService, `127.0.0.1:${await viaDns.listen("127.0.0.1:0")}`, { token });
  // pick_first would answer every call from one backend; round_robin reaches both once both are connected.
  const answered = new Set<string>();
  for (let i = 0; i < 200 && answered.size < 2; i++) answered.add((await client.echo({})).text);
  assert.deepEqual([...answered].sort(), ["b1", "b2"]);
  assert.equal((await dnsClient.echo({})).text, "b1");
  client.close();
  dnsClient.close();
  await Promise.all([gateway.shutdown(), viaDns.shutdown()]);
  await Promise.all(backends.map((b) => b.shutdown()));
});
