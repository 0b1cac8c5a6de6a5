/**
 * Shared tools for the hostile suite (`npm run test:hostile`, `test/hostile/`): measure the
 * event loop's largest delay while an attack runs, print it, assert it only with a wide margin
 * (a shared 2-core CI box must not turn a slow run into a red one — the number that matters is
 * the printed one), and check afterwards that Node-RED is still alive and answering.
 *
 *     const m = await underAttack('halo-in tcp: 10 MB nested body', async () => { …send… });
 *     assertLoopDelay(m);                       // < 1 000 ms unless told otherwise
 *     await stillAnswering(helper);             // the test-helper's Node-RED still serves HTTP
 *     await loopAnswers();                      // the loop turns at once
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { prng } from '../../lib/camera/testclips';

/** What the issue aims for: the loop never blocked longer than this during an attack. */
export const TARGET_DELAY_MS = 100;
/** What a test asserts by default: ten times the target, so only a real stall fails. */
export const ASSERT_DELAY_MS = 1000;

export interface LoopDelay {
  label: string;
  /** Largest delay of the event loop seen while the attack ran, in ms. */
  maxMs: number;
  /** 99th percentile of the delay, in ms. */
  p99Ms: number;
  /** Mean delay, in ms. */
  meanMs: number;
  /** How long the attack took on the wall clock, in ms (printed only, never asserted). */
  elapsedMs: number;
}

/** Lines printed by {@link underAttack} (for a suite that wants a closing table). */
export const printed: LoopDelay[] = [];

/**
 * Run `attack` while a histogram samples the event loop's delay (10 ms resolution), then print
 * `[hostile] <label>: event-loop max N ms, p99 N ms, … (target < 100 ms)` and return the
 * numbers together with the attack's own result. A throw from `attack` is re-thrown after the
 * histogram is disabled.
 */
export async function underAttack<T = void>(label: string, attack: () => Promise<T> | T): Promise<LoopDelay & { result: T }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  const t0 = performance.now();
  h.enable();
  let result: T;
  try {
    // Let the sampling timer run once, so a stall in the attack's first synchronous part counts.
    await new Promise((r) => setTimeout(r, 15));
    result = await attack();
    // One more turn so a stall caused by the attack's last packet is sampled too.
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    h.disable();
  }
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  const d: LoopDelay = {
    label,
    // The histogram includes the sampling interval itself; report the excess over it.
    maxMs: Math.max(0, ms(h.max) - 10),
    p99Ms: Math.max(0, ms(h.percentile(99)) - 10),
    meanMs: Math.max(0, (Number.isNaN(h.mean) ? 0 : ms(h.mean)) - 10),
    elapsedMs: Math.round(performance.now() - t0),
  };
  printed.push(d);
  const flag = d.maxMs < TARGET_DELAY_MS ? '' : '  <-- above the target';
  process.stdout.write(
    `\n[hostile] ${label}: event-loop max ${d.maxMs.toFixed(1)} ms, p99 ${d.p99Ms.toFixed(1)} ms (target < ${TARGET_DELAY_MS} ms), attack took ${d.elapsedMs} ms${flag}\n`,
  );
  return { ...d, result };
}

/** Assert the largest delay stayed under `limitMs` (default {@link ASSERT_DELAY_MS}, a wide margin). */
export function assertLoopDelay(d: LoopDelay, limitMs = ASSERT_DELAY_MS): void {
  assert.ok(d.maxMs < limitMs, `${d.label}: the event loop was blocked for ${d.maxMs} ms (limit ${limitMs} ms)`);
}

/**
 * Let the event loop turn (one `setImmediate`). A fuzz loop awaits this every few inputs, so
 * the measured delay is the cost of those few, as a server handling them one by one would see.
 */
export function turn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** The loop turns: a `setImmediate` callback runs within a few turns (no busy loop left behind). */
export async function loopAnswers(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, 1));
}

/** The parts of node-red-node-test-helper that {@link stillAnswering} uses. */
export interface AnsweringHelper {
  url(): string;
}

/**
 * Node-RED is still alive and answering: the process did not exit (we are still running in it),
 * its event loop turns, and its HTTP server answers a GET of `/` (admin root or the editor) —
 * any status below 500. `target` is the test-helper (after `helper.startServer()`), an
 * `http.Server` the test serves `RED.httpNode` on, or a base URL (a Node-RED child process).
 */
export async function stillAnswering(target: AnsweringHelper | http.Server | string, path = '/'): Promise<number> {
  await loopAnswers();
  let base: string;
  if (typeof target === 'string') base = target;
  else if (target instanceof http.Server) {
    const a = target.address();
    assert.ok(a && typeof a === 'object', 'the server is not listening any more');
    base = `http://127.0.0.1:${a.port}`;
  } else base = target.url();
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`).toString();
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  assert.ok(res.status < 500, `Node-RED answered ${res.status} to GET ${url} after the attack`);
  return res.status;
}

/**
 * Collect every `uncaughtException` / `unhandledRejection` while `fn` runs (mocha would report
 * the first as a failure of whatever test is running; this names the attack instead). The
 * listeners are removed afterwards.
 */
export async function noUncaught<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const seen: unknown[] = [];
  const onErr = (e: unknown): void => {
    seen.push(e);
  };
  process.on('uncaughtException', onErr);
  process.on('unhandledRejection', onErr);
  try {
    const r = await fn();
    await loopAnswers();
    assert.equal(seen.length, 0, `${label}: ${seen.length} uncaught exception(s), the first: ${String(seen[0])}`);
    return r;
  } finally {
    process.off('uncaughtException', onErr);
    process.off('unhandledRejection', onErr);
  }
}

/**
 * Run an attacking client in its own Node.js process (`node -e code`, `args` as
 * `process.argv.slice(1)`), so the delay measured here is the server's alone, not the cost of
 * building and sending a 10 MB body or 2 000 requests in the same loop. Resolves with its
 * stdout; rejects when it exits non-zero.
 */
export function inChild(code: string, args: string[] = [], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', code, '--', ...args], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`attacking client failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** `[[[…]]]` nested `depth` levels (text only: never parsed by the test itself). */
export function deepArray(depth: number, inner = '1'): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

/** `{"a":{"a":…}}` nested `depth` levels. */
export function deepObject(depth: number, key = 'a', inner = '1'): string {
  return `{"${key}":`.repeat(depth) + inner + '}'.repeat(depth);
}

/** A small deterministic PRNG (mulberry32) so a fuzz failure is reproducible from its seed. */
export { prng };

/** Random bytes (including invalid UTF-8 sequences) of length `n` from `rnd`. */
export function randomBytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** `buf` cut into random pieces of 1…`most` bytes (a stream as a network may deliver it). */
export function splitRandom(buf: Buffer, rnd: () => number, most = 97): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(rnd() * Math.min(most, buf.length - i));
    parts.push(buf.subarray(i, i + n));
    i += n;
  }
  return parts;
}
