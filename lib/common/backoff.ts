/**
 * The one back-off policy of the package: exponential from `initialMs`, multiplied by
 * `factor` after each failure, capped at `maxMs`, with optional full-range jitter
 * (`jitter` = fraction of the delay that is randomised, 0..1). `reset()` after a success.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** 0 = none; 0.2 = the delay is drawn from [0.8·d, d]. */
  jitter?: number;
  /** Injected randomness for deterministic tests; returns [0, 1). */
  random?: () => number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = opts.maxMs ?? 30000;
    this.factor = opts.factor ?? 2;
    this.jitter = Math.min(1, Math.max(0, opts.jitter ?? 0));
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs) || !(this.factor >= 1)) {
      throw new RangeError(`invalid back-off: initial ${this.initialMs} ms, max ${this.maxMs} ms, factor ${this.factor}`);
    }
  }

  /** How many failures in a row so far. */
  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next try, and count this failure. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, this.failures));
    this.failures++;
    if (this.jitter === 0) return Math.round(base);
    return Math.round(base * (1 - this.jitter * this.random()));
  }

  /** The delay `next()` would give without jitter, without counting a failure. */
  peek(): number {
    return Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, this.failures));
  }

  reset(): void {
    this.failures = 0;
  }
}
