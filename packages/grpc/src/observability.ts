import { createServer, type Server as HttpServer } from "node:http";
import { type Logger, pino } from "pino";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export type { Logger };

/** The process's JSON logger (pino); LOG_LEVEL sets the level. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level, base: { pid: process.pid, service: name } });
}

/** The process's Prometheus registry with Node's runtime metrics and the gRPC server metrics. */
export class Metrics {
  readonly registry = new Registry();
  readonly started: Counter<"service" | "method" | "type">;
  readonly handled: Counter<"service" | "method" | "type" | "code">;
  readonly latency: Histogram<"service" | "method" | "type">;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.started = new Counter({
      name: "concord_grpc_server_started_total",
      help: "RPCs started on the server.",
      labelNames: ["service", "method", "type"],
      registers: [this.registry],
    });
    this.handled = new Counter({
      name: "concord_grpc_server_handled_total",
      help: "RPCs completed on the server, by status code.",
      labelNames: ["service", "method", "type", "code"],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: "concord_grpc_server_handling_seconds",
      help: "Time from the start of an RPC to its status being sent (streams: their whole life).",
      labelNames: ["service", "method", "type"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
  }

  /** Serves `/metrics` (Prometheus text format) on host:port; resolves once listening. */
  async serve(host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
    const server: HttpServer = createServer(async (req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end("not found: try /metrics\n");
        return;
      }
      try {
        res.writeHead(200, { "content-type": this.registry.contentType }).end(await this.registry.metrics());
      } catch (err) {
        res.writeHead(500).end(String(err));
      }
    });
    await new Promise<void>((ok, fail) => {
      server.once("error", fail);
      server.listen(port, host, () => ok());
    });
    const address = server.address();
    return {
      port: typeof address === "object" && address ? address.port : port,
      close: () => new Promise((ok) => server.close(() => ok())),
    };
  }
}
