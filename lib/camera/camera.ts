/**
 * The camera: one frame source kept alive. Reconnects with the package back-off (1 s → 30 s)
 * after an error or end, restarts a source that sends nothing for `stallTimeoutMs` (the
 * stall watchdog, 30 s), caps the rate at `fps` by dropping (latest frame wins, never a
 * queue), numbers the frames and reads their size from the JPEG header.
 *
 * Events: `frame` (jpeg, FrameInfo); `state` (CameraState); `bad` (reason) for a skipped
 * part or frame; `ffmpeg` (FoundBinary) when an ffmpeg source has looked its binary up.
 */
import { EventEmitter } from 'node:events';
import { Backoff } from '../common/backoff';
import { Clock, TimerHandle, systemClock } from '../common/clock';
import type { FoundBinary } from '../common/ffmpeg';
import { FrameInfo } from '../system/types';
import { jpegSize } from '../common/jpeg';
import { RateGate } from '../common/rate';
import { FfmpegSource, FileSource, FrameSource, MjpegHttpSource, SnapshotSource } from './sources';

export type SourceKind = 'mjpeg' | 'snapshot' | 'ffmpeg' | 'file' | 'input';
export const SOURCE_KINDS: readonly SourceKind[] = ['mjpeg', 'snapshot', 'ffmpeg', 'file', 'input'];

export interface CameraSettings {
  source: SourceKind;
  url: string;
  /** Frame-rate cap (0 = none). Also the snapshot poll rate and the file playback rate. */
  fps: number;
  username?: string;
  password?: string;
  /** No frame for this long → reconnect (default 30 000 ms; 0 = off). */
  stallTimeoutMs?: number;
  /** ffmpeg executable; unset = looked up (PATH, then the npm-shipped one: lib/common/ffmpeg). */
  ffmpegPath?: string;
  /** Extra ffmpeg input arguments, e.g. ["-rtsp_transport", "udp"]. */
  ffmpegInputArgs?: string[];
}

export type CameraStateName = 'stopped' | 'connecting' | 'streaming' | 'waiting' | 'stalled';

export interface CameraState {
  state: CameraStateName;
  /** Why we are waiting/stalled (the last error). */
  error?: string;
  /** ms until the next try, when waiting. */
  retryInMs?: number;
  frames: number;
}

export type SourceFactory = (s: CameraSettings, clock: Clock) => FrameSource;

export function defaultSourceFactory(s: CameraSettings, clock: Clock): FrameSource {
  const auth = { username: s.username, password: s.password };
  switch (s.source) {
    case 'mjpeg':
      return new MjpegHttpSource(s.url, auth);
    case 'snapshot':
      return new SnapshotSource(s.url, s.fps > 0 ? 1000 / s.fps : 1000, auth, clock);
    case 'ffmpeg':
      return new FfmpegSource(s.url, { bin: s.ffmpegPath, fps: s.fps, inputArgs: s.ffmpegInputArgs, clock });
    case 'file':
      return new FileSource(s.url, { bin: s.ffmpegPath, playbackFps: s.fps > 0 ? s.fps : 15, inputArgs: s.ffmpegInputArgs, clock });
    default:
      throw new Error(`source "${s.source}" has no frame source (frames arrive as input)`);
  }
}

export interface CameraOptions {
  clock?: Clock;
  sourceFactory?: SourceFactory;
  backoff?: Backoff;
}

export class Camera extends EventEmitter {
  private settings: CameraSettings;
  private readonly clock: Clock;
  private readonly factory: SourceFactory;
  private readonly backoff: Backoff;
  private readonly gate: RateGate;
  private source?: FrameSource;
  private retryTimer?: TimerHandle;
  private watchdog?: TimerHandle;
  private lastActivity = 0;
  private seq = 0;
  private _state: CameraState = { state: 'stopped', frames: 0 };
  private active = false;
  /** Sources told to stop whose resources (an ffmpeg process) are not gone yet. */
  private readonly stopping = new Set<Promise<void>>();
  /** Frames emitted, dropped by the cap, and skipped as bad, since creation. */
  readonly stats = { frames: 0, dropped: 0, bad: 0, reconnects: 0, stalls: 0 };

  constructor(settings: CameraSettings, opts: CameraOptions = {}) {
    super();
    this.settings = { ...settings };
    this.clock = opts.clock ?? systemClock;
    this.factory = opts.sourceFactory ?? defaultSourceFactory;
    this.backoff = opts.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30000, factor: 2 });
    this.gate = new RateGate(settings.fps);
  }

  get state(): CameraState {
    return { ...this._state };
  }

  get running(): boolean {
    return this.active;
  }

  get current(): CameraSettings {
    return { ...this.settings };
  }

  private setState(s: Omit<CameraState, 'frames'>): void {
    this._state = { ...s, frames: this.stats.frames };
    this.emit('state', this.state);
  }

  /** Start (or keep) acquiring. For `input`, frames come through {@link input}. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.backoff.reset();
    this.gate.reset();
    if (this.settings.source === 'input') {
      this.setState({ state: 'streaming' });
      return;
    }
    this.open();
  }

  /** Stop acquiring: the source is closed, timers cleared. */
  stop(): void {
    this.active = false;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.disarmWatchdog();
    this.closeSource();
    this.setState({ state: 'stopped' });
  }

  /** New settings: the source restarts if it was running. */
  configure(next: CameraSettings): void {
    const wasActive = this.active;
    if (wasActive) this.stop();
    this.settings = { ...next };
    this.gate.setFps(next.fps);
    if (wasActive) this.start();
  }

  /** A frame from outside (source `input`, or a test): goes through the cap like any other. */
  input(jpeg: Buffer): FrameInfo | undefined {
    if (!this.active) return undefined;
    return this.offer(jpeg);
  }

  private closeSource(): void {
    const src = this.source;
    this.source = undefined;
    if (src) {
      src.removeAllListeners();
      src.on('error', () => undefined); // late errors after stop are not ours to report
      src.stop();
      const gone = src.whenStopped?.();
      if (gone) {
        const p = gone.then(
          () => undefined,
          () => undefined,
        );
        this.stopping.add(p);
        void p.then(() => this.stopping.delete(p));
      }
    }
  }

  /** Resolves when every source stopped so far has freed its resources (ffmpeg exited). */
  whenStopped(): Promise<void> {
    return Promise.all([...this.stopping]).then(() => undefined);
  }

  private open(): void {
    if (!this.active) return;
    this.closeSource();
    let src: FrameSource;
    try {
      src = this.factory(this.settings, this.clock);
    } catch (err) {
      this.retry(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.source = src;
    this.setState({ state: 'connecting' });
    src.on('open', () => {
      if (this.source === src) this.setState({ state: 'streaming' });
    });
    src.on('frame', (jpeg: Buffer) => {
      if (this.source !== src) return;
      this.lastActivity = this.clock.now();
      if (this._state.state !== 'streaming') this.setState({ state: 'streaming' });
      this.backoff.reset();
      this.offer(jpeg);
    });
    src.on('binary', (b: FoundBinary) => {
      if (this.source === src) this.emit('ffmpeg', b);
    });
    src.on('bad', (reason: string) => {
      this.stats.bad++;
      this.emit('bad', reason);
    });
    src.on('error', (err: Error) => {
      if (this.source === src) this.retry(err);
    });
    src.on('end', () => {
      if (this.source === src) this.retry(new Error('the source ended'));
    });
    this.lastActivity = this.clock.now();
    this.armWatchdog();
    src.start();
  }

  private retry(err: Error): void {
    this.closeSource();
    this.disarmWatchdog();
    if (!this.active) return;
    const delay = this.backoff.next();
    this.stats.reconnects++;
    this.setState({ state: 'waiting', error: err.message, retryInMs: delay });
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.open();
    }, delay);
  }

  private armWatchdog(): void {
    this.disarmWatchdog();
    const limit = this.settings.stallTimeoutMs ?? 30000;
    if (!(limit > 0)) return;
    // Check a few times per limit instead of re-arming a timer on every frame.
    const every = Math.max(100, Math.min(1000, limit / 4));
    this.watchdog = this.clock.setInterval(() => {
      if (!this.source) return;
      const silent = this.clock.now() - this.lastActivity;
      if (silent >= limit) {
        this.stats.stalls++;
        const src = this.source;
        this.closeSource();
        this.disarmWatchdog();
        const delay = this.backoff.next();
        this.setState({ state: 'stalled', error: `no frame for ${Math.round(silent / 1000)} s (${src.kind}): reconnecting`, retryInMs: delay });
        this.retryTimer = this.clock.setTimeout(() => {
          this.retryTimer = undefined;
          this.open();
        }, delay);
      }
    }, every);
  }

  private disarmWatchdog(): void {
    this.clock.clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private offer(jpeg: Buffer): FrameInfo | undefined {
    const now = this.clock.now();
    if (!this.gate.admit(now)) {
      this.stats.dropped++;
      return undefined;
    }
    const size = jpegSize(jpeg);
    if (!size) {
      this.stats.bad++;
      this.emit('bad', `frame is not a readable JPEG (${jpeg.length} bytes)`);
      return undefined;
    }
    this.seq++;
    this.stats.frames++;
    const info: FrameInfo = { seq: this.seq, width: size.width, height: size.height, timestamp: now };
    this.emit('frame', jpeg, info);
    return info;
  }

  /** Stop and forget listeners. */
  close(): void {
    this.stop();
    this.removeAllListeners();
  }
}
