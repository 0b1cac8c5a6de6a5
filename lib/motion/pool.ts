/**
 * The engines for many cameras: every detector of the process shares a small pool of worker
 * processes per engine kind (one per core, at most 4), and each detector's engine — its
 * background model — lives in one of them (the least loaded when it was created). A frame goes to its
 * worker over the IPC channel (~48 KiB at 640×480) and comes back as a count, so Node-RED's
 * event loop carries only the hand-over, never a decode or a blur: with 64 cameras, 128
 * detections a second run beside Node-RED instead of on its loop. The number of workers
 * bounds the detections running at once; the rest wait in the workers' queues (each detector
 * sends at most one frame at a time).
 *
 * Processes, not worker threads: @u4/opencv4nodejs is not context-aware, so in one process it
 * works in one thread only (a second thread gets broken objects; loading it again after a
 * thread that had it exits aborts the process). The sharp engine uses the same pool (instead
 * of a worker thread per camera, ~45 MB each).
 *
 * The workers start with the first engine and stop when the last one closes (a redeploy
 * leaves no process behind); each exits by itself if Node-RED goes away. A worker that dies
 * fails the frames it held with the reason; the next frame for one of its engines waits a
 * back-off (1 s doubling to 30 s, reset by a good frame) and gets a fresh worker, where its
 * engines start again without a background model (as the sharp engine does).
 */
import { ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Backoff } from '../common/backoff';
import { Clock, TimerHandle, systemClock } from '../common/clock';
import { EngineName, EngineResult, EngineSettings, FrameError, MotionEngine } from './engine';
import type { PoolReply, PoolRequest } from './pool-worker';

interface Pending {
  resolve: (r: EngineResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  child?: ChildProcess;
  readonly pending: Map<number, Pending>;
  readonly backoff: Backoff;
  /** While the worker is dead: when the next one may start, and the frames waiting for it. */
  restartAt?: number;
  timer?: TimerHandle;
  waiting: Array<{ go: () => void; stop: (e: Error) => void }>;
  exited?: Promise<void>;
}

/** An engine's place in the pool: its number, the slot of the worker that holds it, its settings. */
interface Handle {
  engine: number;
  slot: number;
  settings: EngineSettings;
}

/** One worker per core, at most 4 (and at least 1). */
export function defaultPoolSize(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores));
}

export class EnginePool {
  readonly kind: EngineName;
  private readonly slots: Slot[];
  private readonly handles = new Set<Handle>();
  private readonly clock: Clock;
  private nextEngine = 1;
  private nextId = 1;
  /** Worker processes started so far. */
  started = 0;

  constructor(kind: EngineName, size = defaultPoolSize(), opts: { clock?: Clock } = {}) {
    this.kind = kind;
    this.clock = opts.clock ?? systemClock;
    this.slots = Array.from({ length: Math.max(1, size) }, () => ({
      pending: new Map<number, Pending>(),
      backoff: new Backoff({ initialMs: 1000, maxMs: 30000 }),
      waiting: [],
    }));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Process ids of the live workers (the benchmark adds their CPU to Node-RED's). */
  get pids(): number[] {
    return this.slots.map((s) => s.child?.pid).filter((p): p is number => typeof p === 'number');
  }

  /** Place a new engine in the least loaded worker. */
  open(settings: EngineSettings): Handle {
    const load = this.slots.map(() => 0);
    for (const x of this.handles) load[x.slot]++;
    let slot = 0;
    for (let i = 1; i < load.length; i++) if (load[i] < load[slot]) slot = i;
    const h: Handle = { engine: this.nextEngine++, slot, settings: { ...settings } };
    this.handles.add(h);
    const s = this.slots[slot];
    if (!s.child && s.restartAt === undefined) this.spawn(slot);
    else this.post(h, { type: 'open', engine: h.engine, settings: { ...settings } });
    return h;
  }

  configure(h: Handle, settings: EngineSettings): void {
    h.settings = { ...settings };
    this.post(h, { type: 'configure', engine: h.engine, settings: { ...settings } });
  }

  reset(h: Handle): void {
    this.post(h, { type: 'reset', engine: h.engine });
  }

  async process(h: Handle, jpeg: Buffer): Promise<EngineResult> {
    const s = this.slots[h.slot];
    if (!s.child) await this.revive(h.slot);
    if (!this.handles.has(h) || !s.child) throw new Error(`${this.kind} engine closed`);
    const child = s.child;
    const id = this.nextId++;
    return new Promise<EngineResult>((resolve, reject) => {
      // The worker keeps Node-RED's process alive only while it holds frames.
      if (s.pending.size === 0) refChannel(child, true);
      s.pending.set(id, { resolve, reject });
      child.send({ type: 'frame', engine: h.engine, id, jpeg } satisfies PoolRequest);
    });
  }

  /** The engine is done; the workers stop with the last one. */
  async close(h: Handle): Promise<void> {
    if (!this.handles.delete(h)) return;
    this.slots[h.slot].child?.send({ type: 'close', engine: h.engine } satisfies PoolRequest);
    if (this.handles.size > 0) return;
    await Promise.all(this.slots.map((s) => this.stopSlot(s)));
  }

  private async stopSlot(s: Slot): Promise<void> {
    this.clock.clearTimeout(s.timer);
    s.timer = undefined;
    s.restartAt = undefined;
    s.backoff.reset();
    for (const w of s.waiting.splice(0)) w.stop(new Error(`${this.kind} engine closed`));
    const child = s.child;
    const exited = s.exited;
    s.child = undefined;
    if (!child) return;
    child.ref(); // keep the process alive until it has gone
    child.disconnect();
    child.kill('SIGTERM');
    await exited;
  }

  private post(h: Handle, msg: PoolRequest): void {
    if (this.handles.has(h)) this.slots[h.slot].child?.send(msg);
  }

  private spawn(i: number): void {
    const s = this.slots[i];
    this.started++;
    const child = fork(path.join(__dirname, 'pool-worker.js'), [this.kind], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    s.child = child;
    s.restartAt = undefined;
    s.exited = new Promise((r) => child.once('exit', () => r()));
    refChannel(child, false);
    for (const h of this.handles) if (h.slot === i) child.send({ type: 'open', engine: h.engine, settings: { ...h.settings } } satisfies PoolRequest);
    child.on('message', (reply: PoolReply) => {
      const p = s.pending.get(reply.id);
      if (!p) return;
      s.pending.delete(reply.id);
      if (s.pending.size === 0) refChannel(child, false);
      if (reply.type === 'result') {
        s.backoff.reset();
        p.resolve({ count: reply.count, width: reply.width, height: reply.height, resized: reply.resized });
      } else p.reject(reply.frame ? new FrameError(reply.message) : new Error(reply.message));
    });
    child.on('error', (err) => this.died(i, child, err.message));
    child.on('exit', (code, signal) => this.died(i, child, `exited (${signal ?? `code ${code}`})`));
  }

  /** A worker is gone: fail what it held; the next frame for its engines waits the back-off. */
  private died(i: number, child: ChildProcess, why: string): void {
    const s = this.slots[i];
    if (child !== s.child) return;
    s.child = undefined;
    child.kill('SIGKILL');
    const delay = s.backoff.next();
    s.restartAt = this.clock.now() + delay;
    const err = new Error(`${this.kind} engine worker ${why}; a new worker starts in ${Math.max(1, Math.round(delay / 1000))} s (its cameras without the background model)`);
    for (const p of s.pending.values()) p.reject(err);
    s.pending.clear();
  }

  /** Wait out the back-off of a dead worker, then start a fresh one. */
  private revive(i: number): Promise<void> {
    const s = this.slots[i];
    return new Promise<void>((go, stop) => {
      s.waiting.push({ go, stop });
      if (s.timer) return;
      const ms = Math.max(0, (s.restartAt ?? 0) - this.clock.now());
      s.timer = this.clock.setTimeout(() => {
        s.timer = undefined;
        if (!s.child && [...this.handles].some((h) => h.slot === i)) this.spawn(i);
        const ok = s.child !== undefined;
        for (const w of s.waiting.splice(0)) {
          if (ok) w.go();
          else w.stop(new Error(`${this.kind} engine closed`));
        }
      }, ms);
    });
  }
}

/** Whether a worker's IPC channel (and process) keeps the event loop alive. */
function refChannel(child: ChildProcess, on: boolean): void {
  const ch = (child as ChildProcess & { channel?: { ref(): void; unref(): void } }).channel;
  if (on) {
    child.ref();
    ch?.ref();
  } else {
    child.unref();
    ch?.unref();
  }
}

const shared = new Map<EngineName, EnginePool>();

/** The process-wide pool of an engine kind. */
export function sharedPool(kind: EngineName): EnginePool {
  let p = shared.get(kind);
  if (!p) {
    p = new EnginePool(kind);
    shared.set(kind, p);
  }
  return p;
}

/** An engine as detectors use it: the engine of its kind, run in that kind's pool. */
export class PooledEngine implements MotionEngine {
  readonly name: EngineName;
  private readonly pool: EnginePool;
  private readonly handle: ReturnType<EnginePool['open']>;
  private closed = false;

  constructor(pool: EnginePool, settings: EngineSettings) {
    this.pool = pool;
    this.name = pool.kind;
    this.handle = pool.open(settings);
  }

  configure(settings: EngineSettings): void {
    if (!this.closed) this.pool.configure(this.handle, settings);
  }

  reset(): void {
    if (!this.closed) this.pool.reset(this.handle);
  }

  async process(jpeg: Buffer): Promise<EngineResult> {
    if (this.closed) throw new Error(`${this.name} engine closed`);
    return this.pool.process(this.handle, jpeg);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close(this.handle);
  }
}
