// Helpers for workflow code, so Flowgate can show a run's progress and the input it waits for while the run
// is going. Runs inside Temporal's workflow sandbox: it imports @temporalio/workflow (and a type from
// @temporalio/common), no Node built-ins and no other Flowgate module.
//
// Both follow a history convention any SDK can follow (upsert_memo in Python, UpsertMemo in Go): the run
// upserts a memo key, which records one WorkflowPropertiesModified event in its history. Flowgate reads the
// memo to describe a run and the events to stream it; replay makes the same calls, so they are deterministic.
import type { Duration } from "@temporalio/common";
import { ApplicationFailure, condition, defineSignal, defineUpdate, log, setHandler, upsertMemo } from "@temporalio/workflow";

// The same strings as PROGRESS_MEMO and INPUT_MEMO in src/operations/engine.ts, which reads them. Repeated
// rather than imported: that module is API code and must stay out of the workflow bundle.
/** Memo key holding a run's latest progress report: `{step, percent?, message?}`. */
export const PROGRESS_MEMO = "flowgate.progress";
/** Memo key holding the input a run waits for, while it waits: `{name, prompt?, schema?}`. */
export const INPUT_MEMO = "flowgate.input";

export interface Progress {
  /** What the run is doing now, short: "pricing", "section 2". */
  step: string;
  /** How far along, 0 to 100. */
  percent?: number;
  /** A sentence for people. */
  message?: string;
}

/**
 * Records the run's progress: each call is one WorkflowPropertiesModified event, and the memo keeps the
 * latest. A percent outside 0..100 is clamped (arithmetic easily gives 100.00000001). A percent that is not
 * a finite number, or a step that is not a string, is a bug in the workflow: it throws a plain Error, which
 * fails the workflow task rather than the run, so the run waits, retrying, for a worker with fixed code.
 */
export function reportProgress(progress: Progress): void {
  if (typeof progress?.step !== "string") throw new Error("reportProgress: step must be a string");
  const { step, percent, message } = progress;
  if (percent !== undefined && !(typeof percent === "number" && Number.isFinite(percent))) {
    throw new Error(`reportProgress: percent must be a finite number, not ${String(percent)}`);
  }
  // Absent fields are left out, not sent as null: JSON has no undefined, and readers test for presence.
  upsertMemo({
    [PROGRESS_MEMO]: {
      step,
      ...(percent === undefined ? {} : { percent: Math.min(100, Math.max(0, percent)) }),
      ...(message === undefined ? {} : { message }),
    },
  });
}

export interface InputOptions<T> {
  /** What to ask the person, shown while the run waits. */
  prompt?: string;
  /** JSON Schema of the answer, for display (the API checks it when the handler is registered with one). */
  schema?: Record<string, unknown>;
  /** How long to wait: ms, or a string such as "1 hour". Absent: for ever. */
  timeout?: Duration;
  /** Throws to refuse a value: an update is then rejected with the thrown message; a signal is ignored. */
  validate?: (value: T) => void;
}

export interface ReceivedInput<T> {
  value: T;
  /** How it came: a signal (fire and forget) or an update (the sender learns it was accepted). */
  via: "signal" | "update";
}

/**
 * Waits for input named `name`, sent as a signal or as an update of that name, whichever comes first;
 * undefined when `timeout` passes first. While it waits, the memo's INPUT_MEMO says what it waits for.
 *
 * The handlers stay registered after it returns, so a late input meets a clear answer rather than
 * Temporal's "unknown handler": a late update is rejected ("no longer awaited"), a late signal is logged
 * and ignored. Calling it again with the same name replaces them and waits afresh.
 */
export async function waitForInput<T>(name: string, options: InputOptions<T> = {}): Promise<ReceivedInput<T> | undefined> {
  // Typed by assertion: TypeScript cannot see the handlers assign it, and would narrow it to undefined.
  let received = undefined as ReceivedInput<T> | undefined;
  let over = false;
  /** Why a value is refused, or undefined to take it. */
  const refusal = (value: T): string | undefined => {
    if (over || received !== undefined) return `"${name}" is no longer awaited`;
    try {
      options.validate?.(value);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  };

  setHandler(defineSignal<[T]>(name), (value) => {
    const refused = refusal(value);
    if (refused === undefined) received = { value, via: "signal" };
    else log.warn(`signal "${name}" ignored: ${refused}`);
  });
  setHandler(
    defineUpdate<T, [T]>(name),
    (value) => {
      // The SDK starts the handler right after the validator, so nothing comes in between, unless an
      // interceptor awaits first. Then the later input fails: with an ApplicationFailure, since any other
      // error thrown here would fail the workflow task instead of the update.
      if (over || received !== undefined) throw ApplicationFailure.nonRetryable(`"${name}" is no longer awaited`, "InputNotAwaited");
      received = { value, via: "update" };
      return value;
    },
    {
      validator: (value) => {
        const refused = refusal(value);
        if (refused !== undefined) throw new Error(refused);
      },
    },
  );

  // A signal sent before this call was buffered and has just been delivered by setHandler: no wait to show.
  if (received !== undefined) {
    over = true;
    return received;
  }
  upsertMemo({
    [INPUT_MEMO]: {
      name,
      ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
      ...(options.schema === undefined ? {} : { schema: options.schema }),
    },
  });
  try {
    if (options.timeout === undefined) await condition(() => received !== undefined);
    else await condition(() => received !== undefined, options.timeout);
  } finally {
    // Also when the run is cancelled meanwhile: a closed run should not look as if it waited for anyone.
    over = true;
    upsertMemo({ [INPUT_MEMO]: null });
  }
  return received;
}
