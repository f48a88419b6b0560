// Health: grpc.health.v1 (Check, Watch, List) for gRPC probes, and GET /health, /health/live, /health/ready
// for HTTP probes. Live means this process answers; ready means what the readiness probe says (the app
// decides: Temporal answers, and the embedded worker polls).
import { setTimeout as sleep } from "node:timers/promises";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { FastifyInstance } from "fastify";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";

export interface Readiness {
  readonly ready: boolean;
  /** Each dependency's state in words, for the /health body: { temporal: "reachable", worker: "polling" }. */
  readonly checks: Readonly<Record<string, string>>;
}

export interface ReadinessProbe {
  check(): Promise<Readiness>;
}

/** Caches a probe's answer briefly, so a burst of probes costs the dependencies one round of checks. */
export function cachedProbe(check: () => Promise<Readiness>, ttlMs = 1000): ReadinessProbe {
  let cached: { at: number; value: Promise<Readiness> } | undefined;
  return {
    check() {
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
 * while the app is ready, which is what a readiness probe should ask about.
 */
export function createHealthService(served: readonly DescService[], probe: ReadinessProbe): ServiceImpl<typeof Health> {
  const known = new Set(["", ...served.map((s) => s.typeName), Health.typeName]);
  const statusOf = async (service: string) => {
    if (!known.has(service)) return undefined;
    if (service === "" || service === Health.typeName) return ServingStatus.SERVING;
    return (await probe.check()).ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  };
  return {
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
    async list() {
      const statuses: Record<string, { status: ServingStatus }> = {};
      for (const name of known) statuses[name] = { status: (await statusOf(name))! };
      return { statuses };
    },
  };
}

/** A Fastify plugin: the HTTP probes. */
export async function httpHealthRoutes(scope: FastifyInstance, options: { readonly readiness: ReadinessProbe }): Promise<void> {
  scope.get("/health/live", { config: { access: { platform: "health" } } }, async () => ({ status: "ok" }));
  for (const path of ["/health", "/health/ready"]) {
    scope.get(path, { config: { access: { platform: "health" } } }, async (_req, reply) => {
      const { ready, checks } = await options.readiness.check();
      return reply.code(ready ? 200 : 503).send({ status: ready ? "ok" : "unavailable", ...checks });
    });
  }
}
