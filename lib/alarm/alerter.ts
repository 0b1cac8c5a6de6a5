/**
 * What the two alerters share (docs/camera-alarm.md §6): which alerts an alerter runs, and the
 * retry policy — 3 tries in total, 3 s then 6 s apart — through the package's one
 * `Backoff` and an injected clock.
 */
import { Backoff } from '../common/backoff';
import { Clock, systemClock } from '../common/clock';
import { missing, notBool, notStr } from '../common/commands';
import type { ConfigError } from '../system/types';
import type { Alert } from './alarm';

export interface AlerterFlags {
  name: string;
  enabled: boolean;
  testGroup: boolean;
}

/** Why an alert is skipped, or undefined when it runs (docs/camera-alarm.md §6.2). */
export function skipReason(alert: Pick<Alert, 'test' | 'excluded'>, a: AlerterFlags): 'disabled' | 'not-test-group' | 'excluded' | undefined {
  if (alert.test && !a.testGroup) return 'not-test-group';
  if (alert.test && (alert.excluded ?? []).includes(a.name)) return 'excluded';
  if (!a.enabled) return 'disabled';
  return undefined;
}

/** Parse an alert from a message payload; a string is taken as the message of a real alarm. */
export function parseAlert(payload: unknown): Alert | undefined {
  if (typeof payload === 'string' && payload.trim() !== '') return { message: payload as Alert['message'], test: false, excluded: [] };
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const p = payload as Record<string, unknown>;
  const test = p.test === true;
  const message = typeof p.message === 'string' && p.message !== '' ? p.message : test ? 'Test, Test' : 'Alarm';
  const excluded = Array.isArray(p.excluded) ? p.excluded.filter((x): x is string => typeof x === 'string') : [];
  return { message: message as Alert['message'], test, excluded };
}

export class RetryAborted extends Error {
  constructor() {
    super('cancelled');
    this.name = 'RetryAborted';
  }
}

export interface RetryOptions {
  clock?: Clock;
  /** Tries in total (default 3). */
  tries?: number;
  /** Default: 3 s, then 6 s (factor 2). */
  backoff?: Backoff;
  /** Cancels the waits between tries (close of the node). */
  signal?: AbortSignal;
  /** Called after a failed try that will be retried: (error, try number from 1, delay ms). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** The alerters' back-off: 3 s, then 6 s. */
export function alerterBackoff(): Backoff {
  return new Backoff({ initialMs: 3000, factor: 2, maxMs: 6000 });
}

/** Wait `ms` on `clock`, rejecting with RetryAborted if `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RetryAborted());
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(new RetryAborted());
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `attempt` up to `tries` times, waiting the back-off between failures. Resolves with
 * the first success, rejects with the last error (or RetryAborted).
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const tries = Math.max(1, opts.tries ?? 3);
  const backoff = opts.backoff ?? alerterBackoff();
  backoff.reset();
  for (let n = 1; ; n++) {
    if (opts.signal?.aborted) throw new RetryAborted();
    try {
      return await attempt(n);
    } catch (err) {
      // A try that failed because the run was cancelled (the node closing) is not retried.
      if (n >= tries || err instanceof RetryAborted || opts.signal?.aborted) throw err;
      const delay = backoff.next();
      opts.onRetry?.(err, n, delay);
      await sleep(clock, delay, opts.signal);
    }
  }
}

/** Errors for the `enabled` / `test_grp` keys every alerter section has (docs/camera-alarm.md §6.1). */
export function validateAlerterFlags(p: Record<string, unknown>, prefix: Array<string | number>): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const k of ['enabled', 'test_grp']) {
    if (p[k] === undefined || p[k] === null) errors.push(missing([...prefix, k]));
    else if (typeof p[k] !== 'boolean') errors.push(notBool([...prefix, k]));
  }
  return errors;
}

/** Optional string keys: present → must be a string. */
export function validateStrings(p: Record<string, unknown>, keys: string[], prefix: Array<string | number>): ConfigError[] {
  return keys
    .filter((k) => p[k] !== undefined && p[k] !== null && typeof p[k] !== 'string')
    .map((k) => notStr([...prefix, k]));
}

/** An alerter name usable as `alerters.<name>`. */
export function isValidAlerterName(name: unknown): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9_-]+$/.test(name);
}
