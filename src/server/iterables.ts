// A stream's messages pass through the server's wrappers (message conversion, error mapping, parse-error
// rewriting) one by one, a thousand times per event when a thousand clients watch one run. An async
// generator per wrapper costs a generator resumption and several promises per message; this does the same
// job with one `then`.

/** What `passThrough` does to a stream on the way. */
export interface PassThroughHooks<T, U> {
  /** Each message, replaced by what this returns. */
  readonly each?: (value: T) => U;
  /** A failure of the source, replaced by what this returns. */
  readonly fail?: (err: unknown) => unknown;
  /** Called once when the source ends normally, before the consumer learns of the end; may throw instead. */
  readonly end?: () => void;
  /** Called once when the stream is over however it ended: its end, its failure, or its consumer stopping. */
  readonly settled?: () => void;
}

/**
 * `source`, read on demand with the hooks applied: the equivalent of
 * `async function* (s) { try { for await (const v of s) yield each(v); end(); } catch (e) { throw fail(e); } finally { settled(); } }`.
 * A consumer that stops early (`return`) stops the source too, as `for await` would.
 */
export function passThrough<T, U = T>(source: AsyncIterable<T>, hooks: PassThroughHooks<T, U>): AsyncIterable<U> {
  const { each, fail, end, settled } = hooks;
  return {
    [Symbol.asyncIterator](): AsyncIterator<U> {
      const it = source[Symbol.asyncIterator]();
      let ended = false;
      let over = false;
      const settle = () => {
        if (over) return;
        over = true;
        settled?.();
      };
      const onResult = (r: IteratorResult<T>): IteratorResult<U> => {
        if (r.done === true) {
          if (!ended) {
            ended = true;
            try {
              end?.();
            } finally {
              settle();
            }
          }
          return r;
        }
        // Without `each`, U is T (its default): the message passes as it is.
        return each === undefined ? (r as IteratorResult<unknown> as IteratorResult<U>) : { done: false, value: each(r.value) };
      };
      const onFailure =
        fail === undefined && settled === undefined
          ? undefined
          : (err: unknown): never => {
              settle();
              throw fail === undefined ? err : fail(err);
            };
      return {
        next: () => it.next().then(onResult, onFailure),
        return: async (value?: unknown) => {
          ended = true; // stopped by the consumer: not an end of the source
          settle();
          if (it.return !== undefined) await it.return(value).catch(onFailure ?? rethrow);
          return { done: true, value: value as U };
        },
      };
    },
  };
}

function rethrow(err: unknown): never {
  throw err;
}
