/**
 * The one long-timer helper. Node's timers (and so every `Clock`) hold at most 2^31 − 1 ms
 * (about 24.8 days); a longer delay fires at once with a warning. Every duration that comes
 * from outside (a `silence` of 30 days, a `shutdownIn`) is scheduled through
 * {@link longTimeout}, which chains hops of at most {@link MAX_TIMER_MS} toward an absolute due
 * time on the injected clock, and checked with {@link durationProblem} against a documented
 * maximum before anything is scheduled.
 */
import type { Clock, TimerHandle } from './clock';

/** The longest single delay a Node.js timer holds. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The longest duration Vigil accepts from outside: 366 days. Longer ones are refused. */
export const MAX_DURATION_MS = 366 * 24 * 3600 * 1000;

export interface LongTimer {
  /** Absolute due time (ms epoch on the clock). */
  readonly dueAt: number;
  clear(): void;
}

/** Call `fn` once `ms` from now on `clock`, however long `ms` is (hops of ≤ MAX_TIMER_MS). */
export function longTimeout(clock: Clock, fn: () => void, ms: number, hopMs = MAX_TIMER_MS): LongTimer {
  const dueAt = clock.now() + Math.max(0, Number.isFinite(ms) ? ms : 0);
  let handle: TimerHandle | undefined;
  let cleared = false;
  const hop = (): void => {
    handle = undefined;
    if (cleared) return;
    const left = dueAt - clock.now();
    if (left <= 0) fn();
    else handle = clock.setTimeout(hop, Math.min(left, hopMs));
  };
  // Always at least one real timer, so `fn` never runs inside this call.
  handle = clock.setTimeout(hop, Math.min(dueAt - clock.now(), hopMs));
  return {
    dueAt,
    clear(): void {
      if (cleared) return;
      cleared = true;
      clock.clearTimeout(handle);
      handle = undefined;
    },
  };
}

/**
 * Why a duration from outside can't be used (`undefined` when it can): not a finite number,
 * negative, or above `max` (default {@link MAX_DURATION_MS}). `what` names it in the reason.
 */
export function durationProblem(ms: unknown, what: string, max = MAX_DURATION_MS): string | undefined {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return `${what} must be a finite number`;
  if (ms < 0) return `${what} must not be negative`;
  if (ms > max) return `${what} is longer than the maximum of ${Math.floor(max / 86_400_000)} days`;
  return undefined;
}
