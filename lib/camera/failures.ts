/**
 * What a camera's failures are worth saying, and how loud. Failures in a row since the last
 * frame: the first two are warnings (a camera that is still booting, a simulator that starts
 * with Node-RED); from the third on it is an error (for Catch nodes). Each is said once per
 * change of error or level, not at every retry; a stall is warned once per change of error.
 */
export type FailureLevel = 'warn' | 'error';

export class FailureReport {
  private failures = 0;
  private lastError = '';
  private lastLevel = '';

  /** A failed attempt: the level to report it at, or undefined when it was already said. */
  failed(error: string): FailureLevel | undefined {
    this.failures++;
    const level: FailureLevel = this.failures >= 3 ? 'error' : 'warn';
    if (error === this.lastError && level === this.lastLevel) return undefined;
    [this.lastError, this.lastLevel] = [error, level];
    return level;
  }

  /** The stream stalled: true when this error was not said yet. */
  stalled(error: string): boolean {
    if (error === this.lastError) return false;
    this.lastError = error;
    return true;
  }

  /** A frame arrived: starts over; true when a problem had been reported (say it recovered). */
  recovered(): boolean {
    const had = this.lastError !== '';
    [this.failures, this.lastError, this.lastLevel] = [0, '', ''];
    return had;
  }
}
