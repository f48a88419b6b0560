// Health: grpc.health.v1 (Check and Watch) for gRPC probes, and GET /health, /health/live, /health/ready
// for HTTP probes. Ready means Temporal answers for our namespace; live means this process answers.
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import type { FastifyInstance } from "fastify";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";

export interface ReadinessProbe {
  /** True when the dependencies that requests need (Temporal) answer. */
  ready(): Promise<boolean>;
}

/** Caches a probe's answer briefly, so a burst of probes costs Temporal one call. */
export function cachedProbe(check: () => Promise<boolean>, ttlMs = 1000): ReadinessProbe {
  let cached: { at: number; value: Promise<boolean> } | undefined;
  return {
    ready() {
      const now = Date.now();
      if (cached === undefined || now - cached.at > ttlMs) cached = { at: now, value: check() };
      return cached.value;
    },
  };
}

const WATCH_INTERVAL_MS = 5000;

/**
 * grpc.health.v1: the server as a whole ("") is SERVING while this process answers, so a Temporal outage
 * never gets healthy replicas restarted by a liveness probe; each application service is SERVING only
 * while Temporal answers, which is what a readiness probe should ask about.
 */
export function registerGrpcHealth(router: ConnectRouter, served: readonly DescService[], probe: ReadinessProbe): void {
  const known = new Set(["", ...served.map((s) => s.typeName), Health.typeName]);
  const statusOf = async (service: string) => {
    if (!known.has(service)) return undefined;
    if (service === "" || service === Health.typeName) return ServingStatus.SERVING;
    return (await probe.ready()) ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  };
  router.service(Health, {
    async check(req) {
      const status = await statusOf(req.service);
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return { status };
    },
    async *watch(req, ctx) {
      let last: ServingStatus | undefined;
      while (!ctx.signal.aborted) {
        const status = (await statusOf(req.service)) ?? ServingStatus.SERVICE_UNKNOWN;
        if (status !== last) yield { status };
        last = status;
        await sleep(WATCH_INTERVAL_MS, undefined, { signal: ctx.signal }).catch(() => undefined);
      }
    },
    list: async () => {
      const statuses: Record<string, { status: ServingStatus }> = {};
      for (const name of known) statuses[name] = { status: (await statusOf(name))! };
      return { statuses };
    },
  });
}

export function registerHttpHealth(app: FastifyInstance, probe: ReadinessProbe): void {
  const ready = async () => {
    const ok = await probe.ready();
    return { status: ok ? 200 : 503, body: { status: ok ? "ok" : "unavailable", temporal: ok ? "reachable" : "unreachable" } };
  };
  app.get("/health/live", async () => ({ status: "ok" }));
  for (const path of ["/health", "/health/ready"]) {
    app.get(path, async (_req, reply) => {
      const { status, body } = await ready();
      return reply.code(status).send(body);
    });
  }
}
