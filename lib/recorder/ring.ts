/**
 * The pre-alarm buffer: the most recent JPEG frames, bounded by age (seconds) AND by total
 * bytes, oldest dropped first. A frame is kept as the very Buffer the camera produced — never
 * copied — so the buffer costs the frames' own bytes plus one small record each.
 */

export interface BufferedFrame {
  readonly jpeg: Buffer;
  /** Arrival time, ms epoch on the recorder's clock. */
  readonly t: number;
}

export interface FrameRingOptions {
  /** Keep frames no older than this (ms) relative to the newest. */
  maxAgeMs: number;
  /** Keep at most this many bytes of JPEG. */
  maxBytes: number;
}

export class FrameRing {
  private frames: BufferedFrame[] = [];
  /** Index of the oldest live frame in `frames` (dropped ones are compacted lazily). */
  private head = 0;
  private total = 0;
  /** Frames dropped because the byte cap was reached before the age limit. */
  private cappedDrops = 0;
  maxAgeMs: number;
  maxBytes: number;

  constructor(opts: FrameRingOptions) {
    this.maxAgeMs = Math.max(0, opts.maxAgeMs);
    this.maxBytes = Math.max(0, opts.maxBytes);
  }

  /** Add a frame (arrival time `t`); drops what is now too old or over the byte cap. */
  push(jpeg: Buffer, t: number): void {
    this.frames.push({ jpeg, t });
    this.total += jpeg.length;
    this.trim(t);
  }

  /** Drop frames older than `now - maxAgeMs` and, oldest first, bytes over the cap. */
  trim(now: number): void {
    const oldest = now - this.maxAgeMs;
    while (this.head < this.frames.length) {
      const f = this.frames[this.head];
      const overBytes = this.total > this.maxBytes;
      if (f.t >= oldest && !overBytes) break;
      if (overBytes && f.t >= oldest) this.cappedDrops++;
      this.total -= f.jpeg.length;
      this.head++;
    }
    // Compact once the dead prefix is large: amortised O(1) per frame, no per-push shift().
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }

  /** Frames with `t >= since`, oldest first (references to the stored Buffers). */
  since(since: number): BufferedFrame[] {
    const out: BufferedFrame[] = [];
    for (let i = this.head; i < this.frames.length; i++) if (this.frames[i].t >= since) out.push(this.frames[i]);
    return out;
  }

  /** The newest frame, if any. */
  get last(): BufferedFrame | undefined {
    return this.head < this.frames.length ? this.frames[this.frames.length - 1] : undefined;
  }

  get length(): number {
    return this.frames.length - this.head;
  }

  get bytes(): number {
    return this.total;
  }

  /** Span held (ms), newest minus oldest. */
  get spanMs(): number {
    return this.length > 1 ? this.frames[this.frames.length - 1].t - this.frames[this.head].t : 0;
  }

  /** True once the byte cap, not the age, has limited the buffer (the pre-roll is shorter than asked). */
  get byteCapped(): boolean {
    return this.cappedDrops > 0;
  }

  /**
   * Frames per second measured over the last `windowMs` of frames held (`fallback` with fewer
   * than two). Rounded to 0.01 and kept within 0.1 … 120.
   */
  rate(fallback: number, windowMs = 10_000): number {
    const end = this.frames.length - 1;
    if (end - this.head < 1) return fallback;
    const newest = this.frames[end].t;
    let i = end;
    while (i > this.head && newest - this.frames[i - 1].t <= windowMs) i--;
    const span = newest - this.frames[i].t;
    if (end - i < 1 || span <= 0) return fallback;
    const r = ((end - i) * 1000) / span;
    return Math.min(120, Math.max(0.1, Math.round(r * 100) / 100));
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.total = 0;
  }
}
