/**
 * The one rate-limited warner. Anything a remote peer can trigger over and over (a refused
 * connection, a bad camera part, a malformed message) is logged through this: per kind of
 * warning, the first `burst` in a window are written as they come; the rest are counted and
 * written as one summary line when the window ends ("… 2 913 more like this in the last 60 s"),
 * so nothing is silently lost and a flood costs one line per window. Kinds are the caller's
 * fixed categories (never a remote-chosen string); past `maxKinds` they share one bucket.
 */
import { systemClock, type Clock, type TimerHandle } from './clock';

export interface WarnerOptions {
  /** Lines written per kind and window before suppression starts. Default 5. */
  burst?: number;
  /** Window length in ms. Default 60 000. */
  windowMs?: number;
  /** Distinct kinds tracked before they share one bucket. Default 64. */
  maxKinds?: number;
  clock?: Clock;
}

interface Bucket {
  windowStart: number;
  written: number;
  suppressed: number;
  sample: string;
  timer?: TimerHandle;
}

export class RateLimitedWarner {
  private readonly burst: number;
  private readonly windowMs: number;
  private readonly maxKinds: number;
  private readonly clock: Clock;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly sink: (line: string) => void,
    opts: WarnerOptions = {},
  ) {
    this.burst = opts.burst ?? 5;
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxKinds = opts.maxKinds ?? 64;
    this.clock = opts.clock ?? systemClock;
  }

  /** Warn `message` under `kind`; returns true when the line was written now. */
  warn(kind: string, message: string): boolean {
    if (!this.buckets.has(kind) && this.buckets.size >= this.maxKinds) kind = '(other)';
    const now = this.clock.now();
    let b = this.buckets.get(kind);
    if (!b || (b.suppressed === 0 && now - b.windowStart >= this.windowMs)) {
      b = { windowStart: now, written: 0, suppressed: 0, sample: '' };
      this.buckets.set(kind, b);
    }
    if (b.written < this.burst) {
      b.written++;
      this.sink(message);
      return true;
    }
    b.suppressed++;
    b.sample = message;
    if (!b.timer) {
      const bucket = b;
      const wait = Math.max(1, bucket.windowStart + this.windowMs - now);
      bucket.timer = this.clock.setTimeout(() => this.flush(kind, bucket), wait);
    }
    return false;
  }

  /** Warnings held back so far, per kind (for status texts and tests). */
  suppressed(kind: string): number {
    return this.buckets.get(kind)?.suppressed ?? 0;
  }

  /** Write every pending summary now and cancel the timers (call on close). */
  dispose(): void {
    for (const [kind, b] of this.buckets) {
      this.clock.clearTimeout(b.timer);
      b.timer = undefined;
      if (b.suppressed > 0) this.summary(kind, b);
    }
    this.buckets.clear();
  }

  private flush(kind: string, b: Bucket): void {
    b.timer = undefined;
    if (this.buckets.get(kind) !== b) return;
    this.summary(kind, b);
    // A new window starts now; it writes `burst` lines again before suppressing.
    this.buckets.set(kind, { windowStart: this.clock.now(), written: 0, suppressed: 0, sample: '' });
  }

  private summary(kind: string, b: Bucket): void {
    const secs = Math.round((this.clock.now() - b.windowStart) / 1000);
    this.sink(`${b.suppressed} more warning(s) like this in the last ${secs} s (${kind}); the last: ${b.sample}`);
    b.suppressed = 0;
  }
}
