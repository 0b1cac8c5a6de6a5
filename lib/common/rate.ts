/**
 * A rate cap that drops, never queues: `admit(t)` says whether a frame arriving at `t` (ms)
 * passes a cap of `fps` frames per second. Due times advance by exactly 1/fps, so a 15 fps
 * source capped at 10 gives 10 frames a second on average (not 7.5, as "at least 1/fps
 * since the last one" would); after a gap the schedule restarts from the frame that ends
 * it, so a burst never follows a stall.
 */
export class RateGate {
  private interval: number;
  private due?: number;
  private readonly slack: number;

  /**
   * `slack`: how early (as a fraction of 1/fps) a frame may arrive and still pass. Due
   * times still advance by exactly 1/fps, so the long-run rate never exceeds `fps`; the
   * slack only stops a jittery source at exactly the cap (a 15 fps camera capped at 15, on
   * millisecond timestamps) from losing frames that arrive a hair early.
   */
  constructor(fps: number, slack = 0.25) {
    this.interval = fps > 0 ? 1000 / fps : 0;
    this.slack = Math.min(0.5, Math.max(0, slack));
  }

  setFps(fps: number): void {
    this.interval = fps > 0 ? 1000 / fps : 0;
    this.due = undefined;
  }

  get fps(): number {
    return this.interval > 0 ? 1000 / this.interval : 0;
  }

  admit(t: number): boolean {
    if (this.interval === 0) return true;
    if (this.due !== undefined && t < this.due - Math.max(0.5, this.interval * this.slack)) return false;
    this.due = this.due === undefined || t - this.due >= this.interval ? t + this.interval : this.due + this.interval;
    return true;
  }

  reset(): void {
    this.due = undefined;
  }
}

/**
 * A one-slot mailbox: `put` replaces whatever waits (latest frame wins) and hands back the
 * item it displaced, so its owner can account for it. Never a growing queue.
 */
export class LatestSlot<T> {
  private item?: T;

  put(item: T): T | undefined {
    const old = this.item;
    this.item = item;
    return old;
  }

  take(): T | undefined {
    const item = this.item;
    this.item = undefined;
    return item;
  }

  get waiting(): boolean {
    return this.item !== undefined;
  }
}
