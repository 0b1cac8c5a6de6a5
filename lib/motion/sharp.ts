/**
 * The sharp engine (main-thread side): a worker thread owns the sharp decode and the
 * typed-array pipeline; this class forwards frames and settings to it. `close()`
 * terminates the worker.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EngineResult, EngineSettings, FrameError, MotionEngine } from './engine';
import type { WorkerReply, WorkerRequest } from './sharp-worker';

interface Pending {
  resolve: (r: EngineResult) => void;
  reject: (e: Error) => void;
}

export class SharpEngine implements MotionEngine {
  readonly name = 'sharp' as const;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private failure?: Error;

  constructor(settings: EngineSettings) {
    this.worker = new Worker(path.join(__dirname, 'sharp-worker.js'), { workerData: { ...settings } });
    this.worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.type === 'result') p.resolve({ count: reply.count, width: reply.width, height: reply.height, resized: reply.resized });
      else p.reject(reply.frame ? new FrameError(reply.message) : new Error(reply.message));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`sharp engine worker exited (code ${code})`));
    });
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private post(msg: WorkerRequest): void {
    if (!this.closed && !this.failure) this.worker.postMessage(msg);
  }

  configure(settings: EngineSettings): void {
    this.post({ type: 'configure', settings: { ...settings } });
  }

  reset(): void {
    this.post({ type: 'reset' });
  }

  process(jpeg: Buffer): Promise<EngineResult> {
    if (this.closed) return Promise.reject(new Error('sharp engine closed'));
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<EngineResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'frame', id, jpeg });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error('sharp engine closed'));
    this.pending.clear();
    await this.worker.terminate();
  }
}
