// Prometheus metrics (prom-client), in a registry of the app's own: several apps in one process (tests,
// an application embedding Flowgate) never mix their counts. Names and labels follow Prometheus's
// conventions (base units, `_total` counters, `_seconds` histograms), and every label takes a bounded set
// of values: procedures and route patterns (never raw URLs), protocols, Connect codes, trigger ids.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** How the call came in: the three Connect protocols, REST, or a plain HTTP route (probes, metrics, compat paths). */
export type ProtocolLabel = "grpc" | "grpc-web" | "connect" | "rest" | "http";

export interface MetricsOptions {
  /** The process's own metrics (CPU, memory, event loop lag, GC, handles); once per process. */
  readonly processMetrics?: boolean;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Metrics {
  readonly registry = new Registry();

  /** Calls answered, by RPC (or route), protocol and Connect code ("ok" for success). */
  readonly requests = new Counter({
    name: "flowgate_requests_total",
    help: "Calls answered, by RPC or route, protocol and Connect code (ok for success).",
    labelNames: ["rpc", "protocol", "code"] as const,
    registers: [this.registry],
  });

  readonly duration = new Histogram({
    name: "flowgate_request_duration_seconds",
    help: "Time from a call's arrival to the end of its answer (a stream's whole life), by RPC or route and protocol.",
    labelNames: ["rpc", "protocol"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: "flowgate_requests_in_flight",
    help: "Calls received and not yet answered, by protocol.",
    labelNames: ["protocol"] as const,
    registers: [this.registry],
  });

  readonly openStreams = new Gauge({
    name: "flowgate_open_streams",
    help: "Streaming calls open now (WatchWorkflow, uploads), by RPC.",
    labelNames: ["rpc"] as const,
    registers: [this.registry],
  });

  readonly temporalDuration = new Histogram({
    name: "flowgate_temporal_request_duration_seconds",
    help: "Calls Flowgate makes to Temporal, by operation and outcome (ok, or the Connect code the failure maps to).",
    labelNames: ["operation", "outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly triggersFired = new Counter({
    name: "flowgate_event_triggers_fired_total",
    help: "Event triggers an event matched, by trigger and outcome (started a run, or found the run an earlier delivery started).",
    labelNames: ["trigger", "outcome"] as const,
    registers: [this.registry],
  });

  readonly connectionsRefused = new Counter({
    name: "flowgate_connections_refused_total",
    help: "Connections closed as soon as they were accepted, by the cap they were over (connections in all, or per remote address).",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  constructor(options: MetricsOptions = {}) {
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition text GET /metrics answers with, and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /**
   * `target` with every method that returns a promise timed into temporalDuration, its outcome classified
   * by `outcomeOf` (a bounded set of values). Other members pass through untouched.
   */
  timeTemporal<T extends object>(target: T, outcomeOf: (err: unknown) => string): T {
    const histogram = this.temporalDuration;
    // One wrapper per method, made on first use: a call pays for the timer, not for a new closure.
    const wrapped = new Map<string, (...args: unknown[]) => unknown>();
    const wrap = (name: string, method: (...args: unknown[]) => unknown) => (...args: unknown[]) => {
      const result: unknown = method.apply(target, args);
      if (!(result instanceof Promise)) return result;
      const end = histogram.startTimer({ operation: name });
      return result.then(
        (v: unknown) => {
          end({ outcome: "ok" });
          return v;
        },
        (err: unknown) => {
          end({ outcome: outcomeOf(err) });
          throw err;
        },
      );
    };
    return new Proxy(target, {
      get(obj, prop) {
        const value: unknown = Reflect.get(obj, prop);
        if (typeof value !== "function" || typeof prop !== "string") return value;
        let method = wrapped.get(prop);
        if (method === undefined) {
          method = wrap(prop, value as (...args: unknown[]) => unknown);
          wrapped.set(prop, method);
        }
        return method;
      },
    });
  }
}
