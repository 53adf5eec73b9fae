/** What a benchmark scenario gets to prepare its calls. */
export interface BenchContext {
  /** gRPC address that serves every service (the stack's gateway, or the all-in-one controller). */
  address: string;
  adminToken: string;
  /** Issues a token for any identity (the bench knows the controller's secret). */
  issue(tag: string): Promise<string>;
}

/** One RPC to load, measured beside the no-op baseline. */
export interface BenchCall {
  label: string;
  /** ghz call name, `package.Service.Method`. */
  call: string;
  /** Request JSON; ghz templates ({{.RequestNumber}}, {{.WorkerID}}) may spread calls over many entities. */
  data: unknown;
  token: string;
  /** A fixed number of requests instead of the duration (for calls that cannot repeat, such as AddRelation). */
  total?: number;
  /**
   * Run this many ghz processes at once, each with its own token and request (ghz sends one token per run), the
   * concurrency split between them; the call's own `data` and `token` are then unused.
   */
  parallel?: { token: string; data: unknown }[];
}

/** A service's hot RPCs: `prepare` creates the state the calls need through the public API. */
export interface Scenario {
  service: string;
  prepare(ctx: BenchContext): Promise<BenchCall[]>;
}
