// Graceful shutdown (app.close(), which SIGTERM calls), in the order a replica behind a load balancer needs:
//   1. At once: readiness turns false, so the replica leaves the load balancer; new calls are refused with
//      Unavailable (which clients and proxies retry elsewhere), HTTP/2 clients get a GOAWAY, and open server
//      streams (watches) end with Unavailable naming the last event they sent, to resume from elsewhere.
//   2. The calls in flight get the grace period to finish on their own.
//   3. At its end, the calls still waiting (a RunWorkflow, a long GetWorkflowResult) are aborted with
//      Unavailable; the operations layer names the run to read later. The workflows keep running.
//   4. Then Fastify closes the connections, and the caller (src/flowgate.ts) the worker and Temporal.
// Health probes and metrics stay answered throughout: they report the drain instead of being refused.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Readiness, ReadinessProbe } from "./health.js";
import { passThrough } from "./iterables.js";
import { refuseCall } from "./refuse.js";

/** Why a call in flight was aborted at the end of the grace period. */
export const SHUTDOWN_REASON = "the server is shutting down";

/** A drain's progress, for the shutdown log line. */
export interface DrainReport {
  /** Calls in flight when the drain began. */
  readonly inFlight: number;
  /** Calls still in flight at the end of the grace period, which were aborted. */
  readonly aborted: number;
  readonly tookMs: number;
}

export class Drain {
  private readonly streamsEnd = new AbortController();
  private readonly callsEnd = new AbortController();
  private inFlight = 0;
  private onIdle: (() => void) | undefined;

  /** Aborts when the drain begins: server streams end then. */
  readonly streamsSignal: AbortSignal = this.streamsEnd.signal;
  /** Aborts at the end of the grace period: every call still in flight ends then. */
  readonly callsSignal: AbortSignal = this.callsEnd.signal;

  get draining(): boolean {
    return this.streamsEnd.signal.aborted;
  }

  /** Counts a request in flight until its response closes (answered, or its client gone). */
  track(reply: FastifyReply): void {
    this.inFlight += 1;
    const done = () => {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.onIdle?.();
    };
    // 'close' comes once either way: after the answer is out, or when the client went away first.
    reply.raw.once("close", done);
  }

  /** Runs the drain; resolves once every call in flight has ended, answered or aborted. */
  async run(graceMs: number): Promise<DrainReport> {
    const began = Date.now();
    const inFlight = this.inFlight;
    this.streamsEnd.abort(new ConnectError(SHUTDOWN_REASON, Code.Unavailable));
    let aborted = 0;
    if (!(await this.idleWithin(graceMs))) {
      aborted = this.inFlight;
      this.callsEnd.abort(new ConnectError(SHUTDOWN_REASON, Code.Unavailable));
      // An aborted call still writes its answer (Unavailable, naming the run): a moment for that.
      await this.idleWithin(ANSWER_MS);
    }
    return { inFlight, aborted, tookMs: Date.now() - began };
  }

  private idleWithin(ms: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onIdle = undefined;
        resolve(false);
      }, ms);
      this.onIdle = () => {
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve(true);
      };
    });
  }
}

/** `probe`, not ready from the moment the drain begins: the replica leaves its load balancer at once. */
export function drainAware(probe: ReadinessProbe, drain: Drain): ReadinessProbe {
  const draining: Promise<Readiness> = Promise.resolve({ ready: false, checks: { server: "shutting down" } });
  return { check: () => (drain.draining ? draining : probe.check()) };
}

/** How long calls aborted at the end of the grace period get to write their answer. */
const ANSWER_MS = 1000;

/**
 * Counts every request in flight and, once the drain has begun, refuses new ones with Unavailable in the
 * caller's protocol; the routes `stillServed` names (health, metrics) keep answering.
 */
export function refuseWhileDraining(app: FastifyInstance, drain: Drain, stillServed: (req: FastifyRequest) => boolean): void {
  app.addHook("onRequest", (req, reply, done) => {
    if (!drain.draining || stillServed(req)) {
      drain.track(reply);
      return done();
    }
    refuseCall(req, reply, new ConnectError(`${SHUTDOWN_REASON}: call again, another replica will answer`, Code.Unavailable));
  });
}

/**
 * Ends a server stream when the drain begins, with Unavailable that says where to resume: the last event
 * it sent, read by the rule REST's SSE ids follow (an `event_id` field, and `run_id` beside it), and also in
 * the `flowgate-resume-after` trailer ("<run_id>/<event_id>", what SSE's Last-Event-ID takes).
 */
export function createDrainInterceptor(drain: Drain): Interceptor {
  return (next) => async (req) => {
    if (!req.stream || req.method.methodKind !== "server_streaming") return next(req);
    const controller = new AbortController();
    const onAbort = (signal: AbortSignal) => () => controller.abort(signal.reason);
    const callEnded = onAbort(req.signal);
    const drained = onAbort(drain.streamsSignal);
    req.signal.addEventListener("abort", callEnded, { once: true });
    drain.streamsSignal.addEventListener("abort", drained, { once: true });
    const release = () => {
      req.signal.removeEventListener("abort", callEnded);
      drain.streamsSignal.removeEventListener("abort", drained);
    };
    if (req.signal.aborted) callEnded();
    else if (drain.streamsSignal.aborted) drained();
    const resumeOf = resumePointReader(req.method.output);
    let last: string | undefined;
    const interrupted = (): ConnectError => {
      if (resumeOf === undefined) return new ConnectError(`${SHUTDOWN_REASON}: call again, another replica will answer`, Code.Unavailable);
      if (last === undefined) return new ConnectError(`${SHUTDOWN_REASON}: no event was sent yet; call again as before, another replica will answer`, Code.Unavailable);
      const how = `Last-Event-ID: ${last} over SSE, or after_event_id and run_id`;
      return new ConnectError(`${SHUTDOWN_REASON}: resume after event ${last} (${how}), another replica will answer`, Code.Unavailable, { "flowgate-resume-after": last });
    };
    const interruptedByDrain = () => drain.draining && !req.signal.aborted;
    let res;
    try {
      res = await next({ ...req, signal: controller.signal });
    } catch (err) {
      release();
      throw interruptedByDrain() ? interrupted() : err;
    }
    if (!res.stream) {
      release();
      return res;
    }
    const message = passThrough(res.message, {
      each: (m) => {
        last = resumeOf?.(m) ?? last;
        return m;
      },
      fail: (err) => (interruptedByDrain() ? interrupted() : err),
      // A stream that ends because its signal aborted did not reach its end: say so.
      end: () => {
        if (controller.signal.aborted && interruptedByDrain()) throw interrupted();
      },
      settled: release,
    });
    return { ...res, message };
  };
}

/** "<run_id>/<event_id>" (or "<event_id>") of a message of `output`; undefined when it has no `event_id`. */
function resumePointReader(output: DescMessage): ((message: Message) => string | undefined) | undefined {
  const eventId = output.fields.find((f) => f.name === "event_id" && f.fieldKind === "scalar");
  if (eventId === undefined) return undefined;
  const runId = output.fields.find((f) => f.name === "run_id" && f.fieldKind === "scalar");
  return (message) => {
    const fields = message as unknown as Record<string, unknown>;
    const id = String(fields[eventId.localName]);
    const run = runId === undefined ? "" : String(fields[runId.localName]);
    return run === "" ? id : `${run}/${id}`;
  };
}
