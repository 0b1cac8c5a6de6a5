/**
 * Places frames that arrive at irregular times (camera jitter, dropped frames, a burst of
 * buffered frames) onto a constant-rate grid, so a clip's playing time equals the time it
 * covers: slot k (at `t0 + k / rate`) shows the newest frame that had arrived by then. A frame
 * overtaken within one slot is skipped; a frame that stays current for several slots is
 * repeated (the same Buffer, never copied). Both containers are constant-rate, so this is what
 * makes "duration = end − start" and "frames = duration × rate" hold.
 */

export class FrameGrid {
  readonly rate: number;
  private readonly periodMs: number;
  private t0?: number;
  private current?: Buffer;
  private currentT = 0;
  /** Slots emitted so far. */
  private k = 0;

  /**
   * @param rate frames per second of the output
   * @param emit receives each slot's frame, in order
   */
  constructor(
    rate: number,
    private readonly emit: (jpeg: Buffer) => void,
  ) {
    this.rate = rate;
    this.periodMs = 1000 / rate;
  }

  /** Time of the first frame (the clip's start), if any. */
  get start(): number | undefined {
    return this.t0;
  }

  /** Slots emitted so far (frames in the clip). */
  get frames(): number {
    return this.k;
  }

  /** Time of the newest frame taken. */
  get lastFrameAt(): number | undefined {
    return this.current ? this.currentT : undefined;
  }

  /** The clip's end so far: start + frames / rate. */
  get end(): number | undefined {
    return this.t0 === undefined ? undefined : this.t0 + this.k * this.periodMs;
  }

  private slot(k: number): number {
    return (this.t0 as number) + k * this.periodMs;
  }

  /** A frame that arrived at `t` (times must not go backwards; earlier ones count as `t` of the last). */
  push(jpeg: Buffer, t: number): void {
    if (this.t0 === undefined) {
      this.t0 = t;
      this.current = jpeg;
      this.currentT = t;
      return;
    }
    const at = Math.max(t, this.currentT);
    // The current frame fills every slot that falls before the new one arrived.
    while (this.slot(this.k) < at) {
      this.emit(this.current as Buffer);
      this.k++;
    }
    this.current = jpeg;
    this.currentT = at;
  }

  /**
   * End the clip at `end`: the newest frame fills the slots up to it — but at most `holdMs`
   * past its own arrival (a camera that stopped is not shown as a frozen picture for the rest
   * of the clip). The newest frame is always shown at least once.
   */
  close(end: number, holdMs: number): void {
    if (this.t0 === undefined || !this.current) return;
    const until = Math.min(end, this.currentT + holdMs);
    // The newest frame is shown at least once.
    let shown = false;
    while (!shown || this.slot(this.k) < until) {
      this.emit(this.current);
      this.k++;
      shown = true;
    }
    this.current = undefined;
  }
}
