/**
 * Waits for tests that need no Node-RED (lib tests import this file; node tests get the same
 * functions through test/helpers/nodered.ts). Rule timing never waits on wall time: it runs on
 * a FakeClock. These are for what real I/O changes (a socket's bytes, a child process, a
 * server's accept) and that has no event of its own to await.
 */

/**
 * Resolve when `predicate()` holds, checking every `everyMs` of real time — the one poll of
 * the test suites: real sockets and processes move on the OS's schedule, which no clock
 * drives. Rejects after `tries` checks (a hang fails the test with `what`, it does not stall).
 */
export async function until(predicate: () => boolean, what = 'condition', tries = 1000, everyMs = 5): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Let pending I/O callbacks and message deliveries run (a few event-loop turns, no wall time). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** Whether `p` is still pending after a turn of the event loop (its callbacks had their chance). */
export async function stillPending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setImmediate(r));
  return !settled;
}
