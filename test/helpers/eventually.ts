// Polling for what settles a little later (Temporal's visibility lags its writes).

/** Calls `fn` until `done` holds or 10 s have passed, and returns its last value (the test asserts on it). */
export async function eventually<T>(fn: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const until = Date.now() + 10_000;
  for (;;) {
    const value = await fn();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
