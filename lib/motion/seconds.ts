/**
 * Detection seconds (docs/camera-alarm.md §3.1): per-frame changed-pixel counts collect until
 * there are `fps` of them; that is one detection second, a motion second when at least one
 * count lies in `[max(lo, 1), hi]` (both inclusive). Counts above `hi` (a global lighting
 * change, an IR switch-over) and below `lo` (noise) never make motion; 0 never does.
 */

/** True when `count` is in the band `[max(lo, 1), hi]`. */
export function inBand(count: number, lo: number, hi: number): boolean {
  return count >= Math.max(lo, 1) && count <= hi;
}

/** The band-pass of docs/camera-alarm.md §3.1: the counts that survive. */
export function bandpass(counts: readonly number[], lo: number, hi: number): number[] {
  return counts.filter((c) => inBand(c, lo, hi));
}

/** A detection second is a motion second when at least one of its counts is in the band. */
export function motionSecond(counts: readonly number[], lo: number, hi: number): boolean {
  return counts.some((c) => inBand(c, lo, hi));
}

export interface DetectionSecond {
  /** Motion in this second: some count within the band. */
  motion: boolean;
  /** This second's per-frame counts, oldest first. */
  counts: number[];
}

export class DetectionSeconds {
  private counts: number[] = [];
  private framesPerSecond: number;
  private lo: number;
  private hi: number;

  constructor(framesPerSecond: number, lo: number, hi: number) {
    this.framesPerSecond = Math.max(1, Math.floor(framesPerSecond));
    this.lo = lo;
    this.hi = hi;
  }

  /** Change the settings; a different frame count per second starts a fresh second. */
  configure(framesPerSecond: number, lo: number, hi: number): void {
    const n = Math.max(1, Math.floor(framesPerSecond));
    if (n !== this.framesPerSecond) this.counts = [];
    this.framesPerSecond = n;
    this.lo = lo;
    this.hi = hi;
  }

  /** Counts collected towards the current second. */
  get pending(): readonly number[] {
    return this.counts;
  }

  /** Add one frame's count; returns the finished second when this count completes one. */
  add(count: number): DetectionSecond | undefined {
    this.counts.push(count);
    if (this.counts.length < this.framesPerSecond) return undefined;
    const counts = this.counts;
    this.counts = [];
    return { motion: motionSecond(counts, this.lo, this.hi), counts };
  }

  reset(): void {
    this.counts = [];
  }
}
