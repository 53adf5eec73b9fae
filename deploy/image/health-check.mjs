#!/usr/bin/env node
// `concord health [host:port] [service]`: one grpc.health.v1.Health/Check call, for `docker exec` / `kubectl exec`
// and the image test (Kubernetes itself uses its built-in gRPC probes). Prints the status; exit 0 only on SERVING.
// The two messages are encoded by hand (one field each) so this needs nothing but @grpc/grpc-js.
import * as grpc from "@grpc/grpc-js";

const STATUS = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
const localAddress = (addr) => addr.replace(/^(0\.0\.0\.0|\[::\]|::):/, "127.0.0.1:");
const target = process.argv[2] ?? localAddress(process.env.CONCORD_ADDR ?? "127.0.0.1:17070");
const service = process.argv[3] ?? "";
const timeoutMs = Number(process.env.CONCORD_HEALTH_TIMEOUT_MS ?? 5000);

/** HealthCheckRequest { string service = 1 }. */
function encodeRequest(name) {
  const bytes = Buffer.from(name, "utf8");
  if (bytes.length === 0) return Buffer.alloc(0);
  const len = [];
  for (let n = bytes.length; ; n >>>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x0a, ...len]), bytes]);
}

/** HealthCheckResponse { ServingStatus status = 1 }; an absent field is 0 (UNKNOWN). */
function decodeResponse(buf) {
  if (buf.length >= 2 && buf[0] === 0x08) return buf[1];
  return 0;
}

const Client = grpc.makeGenericClientConstructor(
  {
    check: {
      path: "/grpc.health.v1.Health/Check",
      requestStream: false,
      responseStream: false,
      requestSerialize: encodeRequest,
      requestDeserialize: (b) => b,
      responseSerialize: (b) => b,
      responseDeserialize: decodeResponse,
    },
  },
  "Health",
);
const client = new Client(target, grpc.credentials.createInsecure());
client.check(service, { deadline: Date.now() + timeoutMs }, (err, status) => {
  client.close();
  if (err) {
    console.error(`health ${target} ${JSON.stringify(service)}: ${err.message}`);
    process.exit(2);
  }
  console.log(STATUS[status] ?? `status ${status}`);
  process.exit(status === 1 ? 0 : 1);
});
