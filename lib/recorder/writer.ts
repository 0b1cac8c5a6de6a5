/**
 * What both clip containers share: a writer takes frames already placed on the clip's
 * constant-rate grid (see `grid.ts`) and streams them to disk without ever blocking the event
 * loop — file writes are asynchronous, the encoder is a child process. Frames wait in a
 * bounded queue (the very Buffers, never copied); when the disk or the encoder falls that far
 * behind, further frames are dropped and counted rather than held without limit.
 */
import type { ClipFormat } from './naming';

export interface WriterResult {
  /** Frames in the file. */
  frames: number;
  /** File size. */
  bytes: number;
  /** Frames dropped because the queue was full (the disk or encoder could not keep up). */
  dropped: number;
}

export interface ClipWriterOptions {
  /** The (temporary) file to write. */
  path: string;
  /** Frames per second of the grid the frames come on. */
  rate: number;
  /** Bytes of frames allowed to wait; beyond it frames are dropped. Default 64 MiB. */
  maxQueuedBytes?: number;
  /** Called once, when the writer fails (not for `abort`). */
  onFailure?: (err: Error) => void;
}

export interface ClipWriter {
  readonly format: ClipFormat;
  readonly path: string;
  /** Queue a frame; false when it was dropped (queue full, writer failed or finished). */
  write(jpeg: Buffer): boolean;
  /** No more frames: wait for everything queued, complete the file and close it. Rejects with the failure. */
  finish(): Promise<WriterResult>;
  /** Stop at once (kill the encoder, close the file); the caller removes the file. */
  abort(): Promise<void>;
  /** Set once the writer has failed (full disk, encoder exit, …). */
  readonly failure: Error | undefined;
}

/** Frames written per batch at most (one `writev` / a few pipe writes). */
const BATCH_FRAMES = 32;
const BATCH_BYTES = 2 * 1024 * 1024;

/**
 * The bounded queue and pump both writers use: `write` queues, one `sink` call at a time drains
 * a batch, `finish` waits for the queue to empty and then calls `complete`.
 */
export abstract class QueuedWriter implements ClipWriter {
  abstract readonly format: ClipFormat;
  readonly path: string;
  readonly rate: number;
  private readonly maxQueued: number;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private pumping = false;
  private ended = false;
  private idle?: () => void;
  protected framesWritten = 0;
  protected dropped = 0;
  private _failure?: Error;
  private readonly onFailure?: (err: Error) => void;

  constructor(opts: ClipWriterOptions) {
    this.onFailure = opts.onFailure;
    this.path = opts.path;
    this.rate = opts.rate;
    this.maxQueued = opts.maxQueuedBytes ?? 64 * 1024 * 1024;
  }

  get failure(): Error | undefined {
    return this._failure;
  }

  write(jpeg: Buffer): boolean {
    if (this._failure || this.ended) return false;
    if (this.queuedBytes + jpeg.length > this.maxQueued && this.queue.length > 0) {
      this.dropped++;
      return false;
    }
    this.queue.push(jpeg);
    this.queuedBytes += jpeg.length;
    if (!this.pumping) void this.pump();
    return true;
  }

  async finish(): Promise<WriterResult> {
    this.ended = true;
    if (this.pumping) await new Promise<void>((resolve) => (this.idle = resolve));
    if (this._failure) throw this._failure;
    try {
      const bytes = await this.complete();
      return { frames: this.framesWritten, bytes, dropped: this.dropped };
    } catch (err) {
      this.fail(err);
      throw this._failure;
    }
  }

  async abort(): Promise<void> {
    this.ended = true;
    this.queue = [];
    this.queuedBytes = 0;
    if (!this._failure) this._failure = new Error('aborted');
    await this.stop();
  }

  /** Record the first failure; queued frames are dropped. */
  protected fail(err: unknown): void {
    this.queue = [];
    this.queuedBytes = 0;
    if (this._failure) return;
    this._failure = err instanceof Error ? err : new Error(String(err));
    this.onFailure?.(this._failure);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this._failure) {
        let n = 0;
        let size = 0;
        while (n < this.queue.length && n < BATCH_FRAMES && (n === 0 || size + this.queue[n].length <= BATCH_BYTES)) size += this.queue[n++].length;
        const batch = this.queue.splice(0, n);
        this.queuedBytes -= size;
        try {
          await this.sink(batch);
          this.framesWritten += batch.length;
        } catch (err) {
          this.fail(err);
        }
      }
    } finally {
      this.pumping = false;
      const idle = this.idle;
      this.idle = undefined;
      idle?.();
    }
  }

  /** Write a batch of frames, in order; resolves when the batch may be released. */
  protected abstract sink(batch: Buffer[]): Promise<void>;
  /** Complete and close the file; resolves with its size. */
  protected abstract complete(): Promise<number>;
  /** Release everything at once (abort). */
  protected abstract stop(): Promise<void>;
}
