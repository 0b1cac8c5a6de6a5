/**
 * An injectable clock. Every rule in `lib/` that depends on time takes a `Clock`,
 * so tests drive time with {@link FakeClock} instead of sleeping.
 */
export type TimerHandle = { readonly id: number } | NodeJS.Timeout;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** The real clock: `Date.now` and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => {
    if (h !== undefined) clearTimeout(h as NodeJS.Timeout);
  },
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => {
    if (h !== undefined) clearInterval(h as NodeJS.Timeout);
  },
};

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
  every?: number;
}

/**
 * A manual clock for tests: time moves only when `advance`/`set` is called, and
 * timers due in that span fire in order, each seeing `now()` equal to its due time.
 */
export class FakeClock implements Clock {
  private t: number;
  private nextId = 1;
  private timers = new Map<number, FakeTimer>();

  constructor(start: number | Date = 0) {
    this.t = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.t + Math.max(0, ms), fn });
    return { id };
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const every = Math.max(1, ms);
    this.timers.set(id, { id, at: this.t + every, fn, every });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle && 'id' in handle && typeof handle.id === 'number') this.timers.delete(handle.id);
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  /** Number of pending timers (handy to assert that `close()` cleared everything). */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * How far off each pending timer is (ms, soonest first): tells a retry wait of 3 000 ms from
   * a request's own 15 000 ms timeout when both are on this clock.
   */
  dueIn(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.t).sort((a, b) => a - b);
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    this.runUntil(this.t + ms);
  }

  /** Jump to an absolute time (ms epoch or Date), firing due timers on the way. */
  set(to: number | Date): void {
    const target = typeof to === 'number' ? to : to.getTime();
    if (target < this.t) {
      this.t = target; // going back in time fires nothing
      return;
    }
    this.runUntil(target);
  }

  private runUntil(target: number): void {
    for (;;) {
      let next: FakeTimer | undefined;
      for (const timer of this.timers.values()) {
        if (timer.at <= target && (!next || timer.at < next.at || (timer.at === next.at && timer.id < next.id))) next = timer;
      }
      if (!next) break;
      this.t = next.at;
      if (next.every !== undefined) next.at += next.every;
      else this.timers.delete(next.id);
      next.fn();
    }
    this.t = target;
  }
}
