// The application's handler: the hooks the seed APIServer called for credential tests, metadata and
// preflight checks. An application passes one in code, or names a module with FLOWGATE_HANDLER. Flowgate
// calls it with the request's payload and the call's abort signal, and maps what it throws.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { HandlerFailedError, HOOK_NAMES, isHandlerError, MissingHookError, type HookName } from "./errors.js";

export interface HandlerCall {
  /** The request's payload (on REST, the JSON body), as the client sent it. */
  readonly payload: JsonObject;
  /** Aborted when the client goes away or the call's deadline passes. */
  readonly signal: AbortSignal;
}

/** What a hook returns: the answer's fields, or any JSON value (then `success` is true and it is the `data`). */
export type HookResult = { readonly success: boolean; readonly message?: string; readonly data?: JsonValue } | JsonValue | undefined | void;

/** Each hook is optional: a call to a missing one is Unimplemented, naming it. Throw HandlerError to refuse. */
export interface AppHandler {
  testAuth?(call: HandlerCall): HookResult | Promise<HookResult>;
  fetchMetadata?(call: HandlerCall): HookResult | Promise<HookResult>;
  preflightCheck?(call: HandlerCall): HookResult | Promise<HookResult>;
}

export interface HookAnswer {
  readonly success: boolean;
  readonly message: string;
  readonly data: JsonValue | undefined;
}

/** Calls the application's hooks; undefined handler: every hook is missing. */
export class HandlerHooks {
  constructor(private readonly handler: AppHandler | undefined) {}

  /** Which hooks the application has, for logs. */
  available(): HookName[] {
    return HOOK_NAMES.filter((name) => typeof this.handler?.[name] === "function");
  }

  async call(hook: HookName, call: HandlerCall): Promise<HookAnswer> {
    const { handler } = this;
    if (typeof handler?.[hook] !== "function") throw new MissingHookError(hook, handler !== undefined);
    let result: HookResult;
    try {
      // Called as a method: a handler class may use `this`.
      result = await handler[hook](call);
    } catch (err) {
      if (isHandlerError(err)) throw err;
      throw new HandlerFailedError(hook, err);
    }
    return answerOf(result);
  }
}

function answerOf(result: HookResult): HookAnswer {
  if (isAnswer(result)) return { success: result.success, message: result.message ?? "", data: result.data };
  return { success: true, message: "", data: result ?? undefined };
}

function isAnswer(result: HookResult): result is { success: boolean; message?: string; data?: JsonValue } {
  return typeof result === "object" && result !== null && !Array.isArray(result) && typeof result.success === "boolean";
}
