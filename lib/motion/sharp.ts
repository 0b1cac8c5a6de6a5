/**
 * The sharp engine (main-thread side): a worker thread owns the sharp decode and the
 * typed-array pipeline; this class forwards frames and settings to it. `close()`
 * terminates the worker.
 *
 * A worker that dies (a crash, an out-of-memory kill, an uncaught error) fails the frame in
 * flight with the reason, and the engine starts a fresh worker for the next frame after a
 * back-off (1 s, doubling to 30 s while it keeps dying; back to 1 s after a good frame). The
 * next frame waits out the back-off rather than failing, so a detector keeps one error per
 * death, not one per frame. The new worker starts without a background model.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Backoff, BackoffOptions } from '../common/backoff';
import { Clock, TimerHandle, systemClock } from '../common/clock';
import { EngineResult, EngineSettings, FrameError, MotionEngine } from './engine';
import type { WorkerReply, WorkerRequest } from './sharp-worker';

interface Pending {
  resolve: (r: EngineResult) => void;
  reject: (e: Error) => void;
}

export interface SharpEngineOptions {
  /** Times the restart back-off (tests inject a FakeClock). */
  clock?: Clock;
  backoff?: BackoffOptions;
}

export class SharpEngine implements MotionEngine {
  readonly name = 'sharp' as const;
  private worker?: Worker;
  private settings: EngineSettings;
  private readonly pending = new Map<number, Pending>();
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private nextId = 1;
  private closed = false;
  /** Set while the worker is dead: when the next one may start. */
  private restartAt?: number;
  private wait?: { timer: TimerHandle; reject: (e: Error) => void };
  private started = 0;

  constructor(settings: EngineSettings, opts: SharpEngineOptions = {}) {
    this.settings = { ...settings };
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: 1000, maxMs: 30000, ...opts.backoff });
    this.spawn();
  }

  /** Workers started so far (1 = the first one, never restarted). */
  get workersStarted(): number {
    return this.started;
  }

  private spawn(): void {
    this.started++;
    const worker = new Worker(path.join(__dirname, 'sharp-worker.js'), { workerData: { ...this.settings } });
    this.worker = worker;
    this.restartAt = undefined;
    worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.type === 'result') {
        this.backoff.reset();
        p.resolve({ count: reply.count, width: reply.width, height: reply.height, resized: reply.resized });
      } else p.reject(reply.frame ? new FrameError(reply.message) : new Error(reply.message));
    });
    worker.on('error', (err) => this.died(worker, err.message));
    worker.on('exit', (code) => this.died(worker, `exited with code ${code}`));
  }

  /** The worker is gone: fail what it held and schedule the next one. */
  private died(worker: Worker, why: string): void {
    if (this.closed || worker !== this.worker) return;
    this.worker = undefined;
    void worker.terminate().catch(() => undefined);
    const delay = this.backoff.next();
    this.restartAt = this.clock.now() + delay;
    const err = new Error(`sharp engine worker ${why}; a new worker starts in ${Math.max(1, Math.round(delay / 1000))} s (without the background model)`);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private post(msg: WorkerRequest): void {
    if (!this.closed) this.worker?.postMessage(msg);
  }

  configure(settings: EngineSettings): void {
    this.settings = { ...settings };
    this.post({ type: 'configure', settings: { ...settings } });
  }

  reset(): void {
    this.post({ type: 'reset' });
  }

  async process(jpeg: Buffer): Promise<EngineResult> {
    if (this.closed) throw new Error('sharp engine closed');
    if (!this.worker) {
      const ms = (this.restartAt ?? 0) - this.clock.now();
      if (ms > 0) {
        await new Promise<void>((resolve, reject) => {
          this.wait = {
            timer: this.clock.setTimeout(() => {
              this.wait = undefined;
              resolve();
            }, ms),
            reject,
          };
        });
      }
      if (this.closed) throw new Error('sharp engine closed');
      if (!this.worker) this.spawn();
    }
    const id = this.nextId++;
    return new Promise<EngineResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'frame', id, jpeg });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.wait) {
      this.clock.clearTimeout(this.wait.timer);
      this.wait.reject(new Error('sharp engine closed'));
      this.wait = undefined;
    }
    for (const p of this.pending.values()) p.reject(new Error('sharp engine closed'));
    this.pending.clear();
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}
