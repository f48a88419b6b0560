// What one caller may take of a replica: a rate of calls, and a number of open server streams (watches).
// A caller is the authenticated caller ("key:billing", "jwt:alice") or, with authentication off, the
// remote address. Over either limit the call is ResourceExhausted (HTTP 429) naming the caller and the
// limit; a rate refusal says when to retry, in `Retry-After` (seconds, for HTTP clients and proxies) and
// `grpc-retry-pushback-ms` (what gRPC's retry policy reads), as headers or trailers per protocol.
//
// The limits are per replica (N replicas let a caller through N times the rate), kept in memory by
// rate-limiter-flexible, whose fixed windows are cheap to check on every call and whose other stores
// (PostgreSQL, Redis) give one limit across replicas when that is wanted. Health probes and metrics are
// never limited.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { callRecordOf, kCall, type CallRecord } from "./access-log.js";
import { passThrough } from "./iterables.js";
import { refuseCall } from "./refuse.js";

/** At most `calls` calls per `seconds` seconds, per caller. */
export interface RateLimit {
  readonly calls: number;
  readonly seconds: number;
}

export interface CallerLimitSettings {
  /** Calls per caller; absent: no rate limit. */
  readonly rate?: RateLimit | undefined;
  /** Open server streams per caller; absent: no cap. */
  readonly streams?: number | undefined;
}

/** The key a caller is counted under. */
function callerKey(record: CallRecord | undefined): string {
  if (record?.caller !== undefined) return record.caller;
  return `address:${record?.address ?? "unknown"}`;
}

const UNIT_BY_SECONDS: Readonly<Record<number, string>> = { 1: "second", 60: "minute", 3600: "hour" };

export class CallerLimits {
  private readonly limiter: RateLimiterMemory | undefined;
  private readonly openStreams = new Map<string, number>();

  constructor(private readonly settings: CallerLimitSettings) {
    this.limiter = settings.rate && new RateLimiterMemory({ points: settings.rate.calls, duration: settings.rate.seconds });
  }

  get enabled(): boolean {
    return this.limiter !== undefined || this.settings.streams !== undefined;
  }

  /** Counts one call of `key`; throws ResourceExhausted, with when to retry, when it is over its rate. */
  async admit(key: string): Promise<void> {
    if (this.limiter === undefined) return;
    try {
      await this.limiter.consume(key);
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      const { calls, seconds } = this.settings.rate!;
      const waitMs = Math.max(1, Math.ceil(res.msBeforeNext));
      const per = UNIT_BY_SECONDS[seconds] ?? `${seconds} seconds`;
      throw new ConnectError(
        `${key} is over its rate limit of ${calls} calls per ${per}: retry in ${(waitMs / 1000).toFixed(1)} s`,
        Code.ResourceExhausted,
        { "retry-after": String(Math.ceil(waitMs / 1000)), "grpc-retry-pushback-ms": String(waitMs) },
      );
    }
  }

  /** Opens a stream for `key`; throws ResourceExhausted when it has its cap open. Returns its release. */
  openStream(key: string): () => void {
    const cap = this.settings.streams;
    if (cap === undefined) return () => undefined;
    const open = this.openStreams.get(key) ?? 0;
    if (open >= cap) {
      throw new ConnectError(`${key} has ${open} streams open, the most it may have: end one before opening another`, Code.ResourceExhausted);
    }
    this.openStreams.set(key, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.openStreams.get(key) ?? 1) - 1;
      if (now === 0) this.openStreams.delete(key);
      else this.openStreams.set(key, now);
    };
  }
}

/**
 * The RPCs' limits, checked after authentication (the caller is known then): the rate on every call but
 * health's, the stream cap on server streams, released when the stream ends however it ends.
 */
export function createLimitsInterceptor(limits: CallerLimits, exempt: (serviceTypeName: string) => boolean): Interceptor {
  return (next) => async (req) => {
    if (exempt(req.service.typeName)) return next(req);
    const key = callerKey(req.contextValues.get(kCall));
    await limits.admit(key);
    if (!req.stream || req.method.methodKind !== "server_streaming") return next(req);
    const release = limits.openStream(key);
    // The client going away ends the call even when nobody reads the stream to its end.
    req.signal.addEventListener("abort", release, { once: true });
    let res;
    try {
      res = await next(req);
    } catch (err) {
      release();
      throw err;
    }
    if (!res.stream) {
      release();
      return res;
    }
    return { ...res, message: passThrough(res.message, { settled: release }) };
  };
}

/** The rate limit on the routes that are not RPCs (the seed-compatible paths, uploads as a form). */
export function limitRoutes(app: FastifyInstance, limits: CallerLimits, exempt: (req: FastifyRequest) => boolean): void {
  app.addHook("onRequest", async (req, reply) => {
    const access = req.routeOptions.config.access;
    // No route (a 404), or an RPC, which its interceptor limits.
    if (access === undefined || access === "rpc" || exempt(req)) return;
    try {
      await limits.admit(callerKey(callRecordOf(req)));
    } catch (err) {
      if (!(err instanceof ConnectError)) throw err;
      return refuseCall(req, reply, err);
    }
  });
}

/**
 * Load shedding: while the event loop's mean delay over the last sample interval is above `maxDelayMs`,
 * every call is answered Unavailable at once, in its protocol, so the calls already admitted finish in time
 * instead of everyone slowing down together; probes and metrics are still answered. The mean (of Node's
 * event-loop delay histogram, as @fastify/under-pressure reads it) ignores one long pause such as a GC and
 * sees a loop that stays saturated.
 */
export function shedLoad(app: FastifyInstance, maxDelayMs: number, sampleIntervalMs = 1000, exempt: (req: FastifyRequest) => boolean): void {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let delayMs = 0;
  const sampler = setInterval(() => {
    const mean = histogram.mean / 1e6 - RESOLUTION_MS;
    delayMs = Number.isFinite(mean) ? Math.max(0, mean) : 0;
    histogram.reset();
  }, sampleIntervalMs).unref();
  app.addHook("onClose", (_app, done) => {
    clearInterval(sampler);
    histogram.disable();
    done();
  });
  app.addHook("onRequest", (req, reply, done) => {
    if (delayMs <= maxDelayMs || exempt(req)) return done();
    const err = new ConnectError(
      `the server is overloaded (its event loop lags ${Math.round(delayMs)} ms, the limit is ${maxDelayMs} ms): retry shortly, or on another replica`,
      Code.Unavailable,
      { "retry-after": "1" },
    );
    refuseCall(req, reply, err);
  });
}

/** The histogram's sampling timer period, which every sample includes and the delay leaves out. */
const RESOLUTION_MS = 10;
