/**
 * The motion detector: frames in, detection seconds out (docs/camera-alarm.md §2.3, §3.1).
 *
 * - Sampling: frames are taken at `fps` per second by their timestamp (the camera's
 *   `frame.timestamp`, else the clock), dropping the rest.
 * - Back-pressure: one frame is processed at a time; a sampled frame that arrives while
 *   one is processed waits in a one-frame slot, and a newer one replaces it (latest frame
 *   wins, never a queue).
 * - Every `fps` processed frames make one detection second (`second` event).
 * - Metrics (`metrics` event) about once a second while frames are processed: per-frame
 *   processing time min/avg/max in seconds, frames, engine.
 * - A frame that cannot be decoded is reported (`frameError`) and skipped; a frame size
 *   change resets the background (`reset` event with the reason).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Clock, TimerHandle, systemClock } from '../common/clock';
import { LatestSlot, RateGate } from '../common/rate';
import { isJpeg } from '../common/jpeg';
import { DetectorMetrics } from '../system/types';
import { EngineChoice, EngineSettings, FrameError, MotionEngine } from './engine';
import { EngineSelection, createEngine } from './engines';
import { DetectionSecond, DetectionSeconds } from './seconds';

export interface MotionSettings extends EngineSettings {
  /** Detections per second (processing.fps). */
  fps: number;
  pixelThresholdLo: number;
  pixelThresholdHi: number;
  engine: EngineChoice;
}

export const DEFAULT_MOTION_SETTINGS: MotionSettings = {
  fps: 2,
  avgWeighting: 0.5,
  dilationIterations: 0,
  fixedLvlThreshold: 5,
  gaussKsize: 13,
  pixelThresholdLo: 0,
  pixelThresholdHi: 10000,
  resizeWidth: 640,
  engine: 'auto',
};

/** What became of one pushed frame. */
export type FrameOutcome =
  | { kind: 'processed'; count: number }
  | { kind: 'dropped' } // not sampled (fps)
  | { kind: 'replaced' } // a newer frame took its place while waiting
  | { kind: 'corrupt'; error: Error }
  | { kind: 'stopped' }; // the detector closed or was stopped before processing it

export interface SecondEvent extends DetectionSecond {
  /** ms epoch of the frame that completed the second. */
  timestamp: number;
}

interface Job {
  jpeg: Buffer;
  timestamp: number;
  done: (o: FrameOutcome) => void;
}

export interface MotionDetectorOptions {
  clock?: Clock;
  /** Inject an engine (tests, bench); default: {@link createEngine} from `settings.engine`. */
  engineFactory?: (s: MotionSettings) => EngineSelection;
}

/** Validation of the settings; returns [field, message] pairs (empty = valid). */
export function validateMotionSettings(s: MotionSettings): Array<[keyof MotionSettings, string]> {
  const errs: Array<[keyof MotionSettings, string]> = [];
  if (!(Number.isInteger(s.fps) && s.fps > 0)) errs.push(['fps', 'The value must be greater than zero']);
  if (!(Number.isFinite(s.avgWeighting) && s.avgWeighting >= 0 && s.avgWeighting <= 1)) errs.push(['avgWeighting', 'avg_weighting must be between 0 and 1']);
  if (!(Number.isInteger(s.dilationIterations) && s.dilationIterations >= 0)) errs.push(['dilationIterations', 'dilation_iterations must be a whole number ≥ 0']);
  if (!(Number.isFinite(s.fixedLvlThreshold) && s.fixedLvlThreshold >= 0)) errs.push(['fixedLvlThreshold', 'fixed_lvl_threshold must be a number ≥ 0']);
  if (!(Number.isInteger(s.gaussKsize) && s.gaussKsize >= 1 && s.gaussKsize % 2 === 1)) errs.push(['gaussKsize', 'The guassian ksize option must be odd']);
  if (!Number.isFinite(s.pixelThresholdLo)) errs.push(['pixelThresholdLo', 'pixel_threshold_lo must be a number']);
  if (!Number.isFinite(s.pixelThresholdHi)) errs.push(['pixelThresholdHi', 'pixel_threshold_hi must be a number']);
  if (!(Number.isInteger(s.resizeWidth) && s.resizeWidth >= 0)) errs.push(['resizeWidth', 'resizeWidth must be a whole number ≥ 0 (0 = keep the size)']);
  if (!['auto', 'opencv', 'sharp'].includes(s.engine)) errs.push(['engine', 'engine must be auto, opencv or sharp']);
  return errs;
}

/** Settings whose change alters pixel counts (and so resets the background). */
const PIXEL_KEYS: Array<keyof MotionSettings> = ['avgWeighting', 'dilationIterations', 'fixedLvlThreshold', 'gaussKsize', 'resizeWidth'];

export class MotionDetector extends EventEmitter {
  private settings: MotionSettings;
  private readonly clock: Clock;
  private readonly factory: (s: MotionSettings) => EngineSelection;
  private selection?: EngineSelection;
  private readonly gate: RateGate;
  private readonly slot = new LatestSlot<Job>();
  private readonly seconds: DetectionSeconds;
  private busy = false;
  private running = true;
  private closed = false;
  private durations: number[] = [];
  private metricsTimer?: TimerHandle;
  /** Frames processed / corrupt / dropped since start (for status). */
  readonly stats = { processed: 0, corrupt: 0, dropped: 0, replaced: 0, seconds: 0, motionSeconds: 0 };
  private idle: Array<() => void> = [];

  constructor(settings: MotionSettings, opts: MotionDetectorOptions = {}) {
    super();
    this.settings = { ...settings };
    this.clock = opts.clock ?? systemClock;
    this.factory = opts.engineFactory ?? ((s) => createEngine(s.engine, s));
    // Sampling keeps close to even spacing (docs/camera-alarm.md §2.3): only 2% early is tolerated.
    this.gate = new RateGate(settings.fps, 0.02);
    this.seconds = new DetectionSeconds(settings.fps, settings.pixelThresholdLo, settings.pixelThresholdHi);
  }

  /** Create the engine (throws when `engine: opencv` is unavailable). Idempotent. */
  start(): EngineSelection {
    if (!this.selection) {
      this.selection = this.factory(this.settings);
      this.emit('engine', this.selection);
    }
    this.running = true;
    if (!this.metricsTimer) this.metricsTimer = this.clock.setInterval(() => this.flushMetrics(), 1000);
    return this.selection;
  }

  get engineName(): string | undefined {
    return this.selection?.engine.name;
  }

  get current(): MotionSettings {
    return { ...this.settings };
  }

  /** Apply new settings in place; the background resets only when a pixel setting changed (docs/camera-alarm.md §12 #13). */
  configure(next: MotionSettings): void {
    const prev = this.settings;
    this.settings = { ...next };
    if (prev.fps !== next.fps) this.gate.setFps(next.fps);
    this.seconds.configure(next.fps, next.pixelThresholdLo, next.pixelThresholdHi);
    if (PIXEL_KEYS.some((k) => prev[k] !== next[k])) {
      this.selection?.engine.configure(next);
      this.seconds.reset();
      this.emit('reset', 'settings changed');
    }
  }

  /** Forget the background and the current second (e.g. at an off→on transition). */
  reset(reason = 'reset'): void {
    this.selection?.engine.reset();
    this.seconds.reset();
    this.gate.reset();
    this.emit('reset', reason);
  }

  /** Stop detecting: waiting frames are released; a frame in progress finishes. */
  stop(): void {
    this.running = false;
    const waiting = this.slot.take();
    waiting?.done({ kind: 'stopped' });
  }

  get isRunning(): boolean {
    return this.running && !this.closed;
  }

  /**
   * Offer a frame. `done` is called exactly once with what became of it. Throws a
   * TypeError for a payload that is not a JPEG (the caller's input error).
   */
  push(jpeg: Buffer, timestamp: number | undefined, done: (o: FrameOutcome) => void = () => undefined): void {
    if (!Buffer.isBuffer(jpeg)) throw new TypeError('frame must be a Buffer holding a JPEG image');
    if (!isJpeg(jpeg)) throw new TypeError(`frame is not a JPEG image (starts with ${jpeg.subarray(0, 4).toString('hex') || 'nothing'})`);
    if (this.closed || !this.running) {
      done({ kind: 'stopped' });
      return;
    }
    if (!this.selection) this.start();
    const t = timestamp ?? this.clock.now();
    if (!this.gate.admit(t)) {
      this.stats.dropped++;
      done({ kind: 'dropped' });
      return;
    }
    const old = this.slot.put({ jpeg, timestamp: t, done });
    if (old) {
      this.stats.replaced++;
      old.done({ kind: 'replaced' });
    }
    void this.pump();
  }

  /** Resolves when nothing is processing or waiting. */
  whenIdle(): Promise<void> {
    if (!this.busy && !this.slot.waiting) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        const job = this.slot.take();
        if (!job) break;
        if (this.closed || !this.running || !this.selection) {
          job.done({ kind: 'stopped' });
          continue;
        }
        await this.processJob(this.selection.engine, job);
      }
    } finally {
      this.busy = false;
      const idle = this.idle;
      this.idle = [];
      for (const r of idle) r();
    }
  }

  private async processJob(engine: MotionEngine, job: Job): Promise<void> {
    const t0 = performance.now();
    let count: number;
    try {
      const r = await engine.process(job.jpeg);
      count = r.count;
      if (r.resized) {
        this.seconds.reset();
        this.emit('reset', `frame size changed to ${r.width}×${r.height}`);
      }
    } catch (err) {
      if (this.closed) {
        job.done({ kind: 'stopped' });
        return;
      }
      const e = err instanceof Error ? err : new Error(String(err));
      if (e instanceof FrameError) {
        this.stats.corrupt++;
        this.emit('frameError', e, this.stats.corrupt);
        job.done({ kind: 'corrupt', error: e });
        return;
      }
      // An engine failure (worker died, native error): report, and let the owner decide.
      this.emit('engineError', e);
      job.done({ kind: 'corrupt', error: e });
      return;
    }
    this.durations.push((performance.now() - t0) / 1000);
    this.stats.processed++;
    if (this.closed) {
      job.done({ kind: 'stopped' });
      return;
    }
    const second = this.seconds.add(count);
    job.done({ kind: 'processed', count });
    if (second) {
      this.stats.seconds++;
      if (second.motion) this.stats.motionSeconds++;
      this.emit('second', { ...second, timestamp: job.timestamp } satisfies SecondEvent);
    }
  }

  /** Emit metrics for the frames processed since the last call (nothing when none). */
  flushMetrics(): DetectorMetrics | undefined {
    const d = this.durations;
    if (d.length === 0) return undefined;
    this.durations = [];
    let sum = 0;
    let max = -Infinity;
    let min = Infinity;
    for (const x of d) {
      sum += x;
      if (x > max) max = x;
      if (x < min) min = x;
    }
    const m: DetectorMetrics = { loopAvgS: sum / d.length, loopMaxS: max, loopMinS: min, frames: d.length, engine: this.selection?.engine.name ?? '' };
    this.emit('metrics', m);
    return m;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearInterval(this.metricsTimer);
    this.metricsTimer = undefined;
    const waiting = this.slot.take();
    waiting?.done({ kind: 'stopped' });
    await this.selection?.engine.close();
  }
}
