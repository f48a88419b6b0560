// What bounds a call: the RPC's signal (its client went away, its deadline passed, the server shuts down)
// and, when there is one, the deadline itself, which the engine hands on to its own calls as a gRPC deadline
// so that no retry loop outlives it.
//
// Server-side bounds (RunWorkflow's default timeout, GetWorkflowResult's wait) are timers held here, not
// `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: on Node 20 a timeout signal that only `any()` refers
// to can be garbage-collected before it fires, and the bound silently stops existing.

import type { Context as TraceContext } from "@opentelemetry/api";

export interface CallBound {
  readonly signal: AbortSignal;
  /** Milliseconds since the epoch after which the call is out of time; undefined when it has no deadline. */
  readonly deadline: number | undefined;
  /** The call's trace context when tracing is on: the engine's spans are its children. */
  readonly trace?: TraceContext | undefined;
}

/** The bound of an RPC: its signal, its deadline when the client set one (`timeoutMs` remaining), its trace. */
export function callBound(signal: AbortSignal, timeoutMs: number | undefined, trace?: TraceContext): CallBound {
  return { signal, deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs, trace };
}

/** A bound narrowed by a server-side time limit; dispose it when the call ends. */
export interface TimedBound extends CallBound {
  /** True once the server-side limit (not the outer bound) has run out. */
  readonly expired: boolean;
  /** Stops the timer and lets go of the outer signal. */
  dispose(): void;
}

/** Why a server-side time limit aborted a call. */
export class ServerTimeLimitError extends Error {
  override name = "TimeoutError";
  constructor(ms: number) {
    super(`server-side time limit of ${ms} ms reached`);
  }
}

/**
 * `outer` narrowed to at most `ms` from now. The timer keeps the controller reachable until it fires or is
 * disposed, so the limit holds whatever the garbage collector does.
 */
export function withTimeLimit(outer: CallBound, ms: number): TimedBound {
  const limit = Date.now() + ms;
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new ServerTimeLimitError(ms));
  }, ms);
  const onOuterAbort = () => controller.abort(outer.signal.reason);
  if (outer.signal.aborted) onOuterAbort();
  else outer.signal.addEventListener("abort", onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    trace: outer.trace,
    deadline: outer.deadline === undefined ? limit : Math.min(outer.deadline, limit),
    get expired() {
      // A gRPC deadline at the same instant may fail the engine's call a moment before the timer fires.
      return expired || (Date.now() >= limit && !outer.signal.aborted);
    },
    dispose() {
      clearTimeout(timer);
      outer.signal.removeEventListener("abort", onOuterAbort);
    },
  };
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts (the promise's own end is then ignored). */
export function settledBy<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
