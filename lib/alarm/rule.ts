/**
 * The sustained-motion rule (docs/camera-alarm.md §3): per-second motion verdicts go into a
 * fixed-length history of `alertTimeS` entries; the alarm verdict is true when movement has
 * gone on for about `alertTimeS` seconds with no pause of `minMovementS` quiet seconds.
 * Whether a detection second is a motion second (the band-pass of docs/camera-alarm.md §3.1) is decided before
 * this, in lib/motion/seconds.ts (`inBand`, `bandpass`, `motionSecond`).
 */

/**
 * The rule over a history indexed newest first (h[0] newest, h[L−1] oldest), m = min_movement_s.
 * - m < L: true iff there is no run of m consecutive quiet seconds within h[0 … L−2]
 *   (the oldest entry is never looked at, kept for parity: docs/camera-alarm.md §12 #5).
 * - m == L: true iff any entry is 1.
 * - m > L: always true; m == 0: always false (docs/camera-alarm.md §3.3 edge behaviour; the settings
 *   validation keeps 1 ≤ m ≤ L, docs/camera-alarm.md §12 #4).
 */
export function sustained(history: ArrayLike<number | boolean>, m: number): boolean {
  const L = history.length;
  if (m <= 0) return false;
  if (m > L) return true;
  if (m === L) {
    for (let i = 0; i < L; i++) if (history[i]) return true;
    return false;
  }
  // Windows starting at 0 … L−m−1 cover h[0 … L−2].
  let quiet = 0;
  for (let i = 0; i <= L - 2; i++) {
    if (history[i]) quiet = 0;
    else if (++quiet >= m) return false;
  }
  return true;
}

/** A fixed-length history (a ring) of activity seconds with the rule applied on every push. */
export class MotionHistory {
  private buf: Uint8Array;
  /** Index of the newest entry. */
  private head = 0;
  private m: number;

  constructor(alertTimeS: number, minMovementS: number) {
    this.buf = new Uint8Array(Math.max(1, Math.floor(alertTimeS)));
    this.head = this.buf.length - 1;
    this.m = minMovementS;
  }

  get length(): number {
    return this.buf.length;
  }

  /** Newest first, as 0/1. */
  toArray(): number[] {
    const L = this.buf.length;
    const out = new Array<number>(L);
    for (let i = 0; i < L; i++) out[i] = this.buf[(this.head - i + L) % L];
    return out;
  }

  /** Push one detection second; returns the alarm verdict. */
  push(active: boolean): boolean {
    this.head = (this.head + 1) % this.buf.length;
    this.buf[this.head] = active ? 1 : 0;
    return this.verdict();
  }

  verdict(): boolean {
    const L = this.buf.length;
    const m = this.m;
    if (m <= 0) return false;
    if (m > L) return true;
    let quiet = 0;
    const last = m === L ? L - 1 : L - 2;
    for (let i = 0, j = this.head; i <= last; i++, j = j === 0 ? L - 1 : j - 1) {
      if (this.buf[j]) {
        if (m === L) return true;
        quiet = 0;
      } else if (m < L && ++quiet >= m) return false;
    }
    return m < L;
  }

  /** All zeros (startup, off→on, a processing change). */
  reset(): void {
    this.buf.fill(0);
  }

  /** New lengths: the newest entries are kept. */
  resize(alertTimeS: number, minMovementS: number): void {
    this.m = minMovementS;
    const L = Math.max(1, Math.floor(alertTimeS));
    if (L === this.buf.length) return;
    const old = this.toArray();
    this.buf = new Uint8Array(L);
    for (let i = 0; i < Math.min(L, old.length); i++) this.buf[L - 1 - i] = old[i];
    this.head = L - 1;
  }
}
