/**
 * The alarm-clip recorder (framework-free). It keeps the last `preSeconds` of JPEG frames in a
 * bounded ring; a real alarm starts a clip with those frames and keeps recording until
 * `postSeconds` after the alarm. A second alarm while the clip is still being recorded extends
 * it (up to `maxClipSeconds`, then the recording goes on in a new clip); a test alarm never
 * records. Clips are MP4/H.264 through ffmpeg when one with libx264 is available (format
 * `auto`), else MJPEG-in-AVI written here. Each finished clip is announced once (`clip`), then
 * retention runs. A folder that cannot be written, a full disk or a failing encoder put the
 * recorder in the `error` state with the reason — they never throw into the caller, so the
 * alarm and its alerters go on unaffected.
 *
 * Events:
 *  - `state` (RecorderState)  every change (idle / recording / error, the container in use)
 *  - `clip`  (ClipResult)     a finished clip, already in the folder under its name
 *  - `error` (Error)          a clip lost or the folder unusable (also in `state`)
 *  - `warn`  (string)         something the user should know (retention, a short pre-roll, …)
 *  - `info`  (string)         for the log (the container `auto` chose and why)
 *  - `deleted` (string[])     clips removed by retention
 */
import { EventEmitter } from 'node:events';
import { isJpeg } from '../common/jpeg';
import { systemClock, type Clock, type TimerHandle } from '../common/clock';
import { AviWriter } from './avi';
import { FrameGrid } from './grid';
import { hasH264, Mp4Writer } from './mp4';
import type { ClipFormat } from './naming';
import { FrameRing } from './ring';
import { ClipFolder } from './store';
import type { ClipWriter } from './writer';

export type RecorderFormat = 'auto' | ClipFormat;

export interface RecorderOptions {
  /** Where clips go (created when missing). */
  folder: string;
  /** The system's (or node's) name, part of every file name. */
  label?: string;
  /** Seconds of frames kept before an alarm; a function is asked at every alarm. */
  preSeconds: number | (() => number);
  /** Seconds recorded after the (last) alarm. */
  postSeconds: number;
  format?: RecorderFormat;
  /** The ffmpeg executable for MP4, or a lookup (undefined or a throw with the reason = none available). */
  ffmpeg?: string | (() => Promise<string | undefined>);
  /** Days a clip is kept (0 = forever). Default 7. */
  maxAgeDays?: number;
  /** Megabytes all clips may take together (0 = no quota). Default 2048. */
  quotaMB?: number;
  /** Memory for the pre-alarm ring (and, separately, for frames waiting to be written). Default 100 MiB. */
  maxBufferBytes?: number;
  /** Longest single clip; recording beyond it goes on in a new file. Default 600 s. */
  maxClipSeconds?: number;
  /** Frame rate assumed when too few frames arrived to measure one. Default 10. */
  fallbackRate?: number;
  /** How often retention runs besides after each clip. Default 1 h. */
  pruneEveryMs?: number;
  clock?: Clock;
}

export type RecorderPhase = 'starting' | 'idle' | 'recording' | 'error' | 'closed';

export interface RecorderState {
  phase: RecorderPhase;
  /** The container clips are written in (once known). */
  format?: ClipFormat;
  /** Why MP4 is not used although asked for (`mp4`, or `auto` with no ffmpeg/libx264). */
  fallback?: string;
  /** The clip being recorded. */
  clip?: string;
  /** Why the recorder is in `error`. */
  error?: string;
}

/** One finished clip (the node's output `msg.clip`, plus `path` and `format`). Times ms epoch. */
export interface ClipResult {
  name: string;
  path: string;
  format: ClipFormat;
  start: number;
  end: number;
  frames: number;
  bytes: number;
  durationS: number;
  /** The alarm that started the clip. */
  alarmAt: number;
  /** Alarms that extended it. */
  extendedBy: number;
  /** Frames the disk or encoder could not take in time (0 normally). */
  dropped: number;
}

/** What `alarm()` did. */
export type AlarmOutcome = 'started' | 'extended' | 'ignored';

interface Clip {
  alarmAt: number;
  /** When this clip began (the alarm, or the end of the clip it continues). */
  opened: number;
  extendedBy: number;
  /** Record until this time (ms). */
  until: number;
  /** Alarms asked for more than `maxClipSeconds` allows: a new clip follows until then. */
  carryUntil: number;
  grid: FrameGrid;
  /** Frames waiting while the name and writer are being set up. */
  pending: Buffer[];
  pendingBytes: number;
  /** Frames let go because the set-up took so long that `pending` was full. */
  dropped: number;
  name?: string;
  writer?: ClipWriter;
  setup: Promise<void>;
  failed?: Error;
  timer?: TimerHandle;
}

const MB = 1024 * 1024;

export class Recorder extends EventEmitter {
  readonly store: ClipFolder;
  private readonly clock: Clock;
  private readonly ring: FrameRing;
  private readonly opts: RecorderOptions;
  private readonly label: string;
  private readonly maxBuffer: number;
  private readonly maxClipMs: number;
  private readonly fallbackRate: number;
  private formatReady?: Promise<ClipFormat>;
  /** The ffmpeg that has libx264, once `chooseFormat` found one. */
  private ffmpegPath?: string;
  private _state: RecorderState = { phase: 'starting' };
  private active?: Clip;
  /** Clips whose recording time is over, being completed. */
  private readonly finishing = new Map<Clip, Promise<void>>();
  /** Settles when the last clip ended so far has been announced (or lost). */
  private announced: Promise<void> = Promise.resolve();
  private pruneTimer?: TimerHandle;
  private pruning?: Promise<void>;
  private folderOk?: Promise<boolean>;
  private warnedShortPre = false;
  private markStarted!: () => void;
  /** Settles when start() has checked the folder and chosen the container. */
  private readonly started = new Promise<void>((resolve) => (this.markStarted = resolve));
  private closed = false;

  constructor(opts: RecorderOptions) {
    super();
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.label = opts.label ?? '';
    this.maxBuffer = opts.maxBufferBytes ?? 100 * MB;
    this.maxClipMs = (opts.maxClipSeconds ?? 600) * 1000;
    this.fallbackRate = opts.fallbackRate ?? 10;
    this.ring = new FrameRing({ maxAgeMs: this.preMs(), maxBytes: this.maxBuffer });
    this.store = new ClipFolder({
      folder: opts.folder,
      clock: this.clock,
      maxAgeMs: (opts.maxAgeDays ?? 7) * 86_400_000,
      quotaBytes: (opts.quotaMB ?? 2048) * MB,
    });
  }

  get state(): RecorderState {
    return { ...this._state };
  }

  private setState(patch: Partial<RecorderState>): void {
    const next: RecorderState = { ...this._state, ...patch };
    if (next.phase !== 'recording') delete next.clip;
    if (next.phase !== 'error') delete next.error;
    this._state = next;
    this.emit('state', this.state);
  }

  private preMs(): number {
    const p = typeof this.opts.preSeconds === 'function' ? this.opts.preSeconds() : this.opts.preSeconds;
    return Math.max(0, Number.isFinite(p) ? p : 0) * 1000;
  }

  /**
   * Check the folder, choose the container and start retention. Never rejects: problems are
   * reported through `state`/`error` (an alarm before it settles is recorded once it does).
   */
  start(): Promise<void> {
    // Leftovers are removed only here, before any clip of this recorder is written.
    this.folderOk = this.store.prepare().then(
      () => this.store.removeLeftovers().then(
        () => true,
        () => true,
      ),
      (err: unknown) => {
        this.failFolder(err);
        return false;
      },
    );
    this.formatReady = this.chooseFormat();
    const every = this.opts.pruneEveryMs ?? 3_600_000;
    if (every > 0) this.pruneTimer = this.clock.setInterval(() => this.prune(), every);
    return Promise.all([this.folderOk, this.formatReady]).then(([ok, format]) => {
      this.markStarted();
      if (this.closed) return;
      this.setState(ok ? { phase: this.active ? 'recording' : 'idle', format } : { format });
      if (ok) this.prune();
    });
  }

  private async chooseFormat(): Promise<ClipFormat> {
    const want = this.opts.format ?? 'auto';
    if (want === 'avi') return 'avi';
    let ffmpeg: string | undefined;
    let why = 'no ffmpeg was found';
    try {
      ffmpeg = typeof this.opts.ffmpeg === 'function' ? await this.opts.ffmpeg() : this.opts.ffmpeg;
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    }
    if (ffmpeg) {
      if (await hasH264(ffmpeg, this.clock)) {
        this.ffmpegPath = ffmpeg;
        return 'mp4';
      }
      why = `${ffmpeg} does not run or has no libx264 encoder`;
    }
    this._state.fallback = why;
    // Asked for MP4 and not getting it is a warning; `auto` falling back is as designed.
    if (want === 'mp4') this.emit('warn', `format mp4: ${why}; clips are recorded as MJPEG-in-AVI so none is lost`);
    else this.emit('info', `clips are MJPEG-in-AVI: ${why}`);
    return 'avi';
  }

  private failFolder(err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    const e = new Error(`the clip folder ${this.store.folder} cannot be written: ${msg}`);
    this.setState({ phase: 'error', error: e.message });
    this.emit('error', e);
  }

  /** A JPEG frame from the camera (arrival time = now on the clock). Non-JPEG data is refused (false). */
  frame(jpeg: Buffer): boolean {
    if (this.closed || !Buffer.isBuffer(jpeg) || !isJpeg(jpeg)) return false;
    // The same frame twice (the system's camera also wired to the input): kept once.
    if (this.ring.last?.jpeg === jpeg) return true;
    const now = this.clock.now();
    const pre = this.preMs();
    if (pre !== this.ring.maxAgeMs) this.ring.maxAgeMs = pre;
    this.ring.push(jpeg, now);
    if (this.active) this.active.grid.push(jpeg, now);
    return true;
  }

  /**
   * An alarm. A test alarm never records (`ignored`); a real one starts a clip (`started`) or
   * extends the one being recorded (`extended`).
   */
  alarm(opts: { test?: boolean } = {}): AlarmOutcome {
    if (this.closed || opts.test) return 'ignored';
    const now = this.clock.now();
    const until = now + Math.max(0, this.opts.postSeconds) * 1000;
    const clip = this.active;
    if (clip) {
      clip.extendedBy++;
      const cap = (clip.grid.start ?? clip.opened) + this.maxClipMs;
      clip.carryUntil = Math.max(clip.carryUntil, until);
      const next = Math.min(cap, Math.max(clip.until, until));
      if (next !== clip.until) {
        clip.until = next;
        this.schedule(clip);
      }
      return 'extended';
    }
    this.begin(now, until, now - this.preMs());
    return 'started';
  }

  /** A clip for the alarm at `alarmAt`, recording until `until`, with the buffered frames from `since`. */
  private begin(alarmAt: number, until: number, since: number): void {
    if (this.ring.byteCapped && !this.warnedShortPre) {
      this.warnedShortPre = true;
      this.emit(
        'warn',
        `the pre-alarm buffer holds only ${Math.round(this.ring.spanMs / 1000)} s of the ${Math.round(this.preMs() / 1000)} s asked for: its memory (${Math.round(this.maxBuffer / MB)} MB) is full`,
      );
    }
    const rate = this.ring.rate(this.fallbackRate);
    const clip: Clip = {
      alarmAt,
      opened: this.clock.now(),
      extendedBy: 0,
      until,
      carryUntil: until,
      pending: [],
      pendingBytes: 0,
      dropped: 0,
      grid: new FrameGrid(rate, (jpeg) => this.out(clip, jpeg)),
      setup: Promise.resolve(),
    };
    this.active = clip;
    for (const f of this.ring.since(since)) clip.grid.push(f.jpeg, f.t);
    const cap = (clip.grid.start ?? clip.opened) + this.maxClipMs;
    if (clip.until > cap) clip.until = cap;
    clip.setup = this.setup(clip);
    this.schedule(clip);
    if (this._state.phase !== 'error') this.setState({ phase: 'recording' });
  }

  /** A frame on the clip's grid: to the writer, or held until the writer exists. */
  private out(clip: Clip, jpeg: Buffer): void {
    if (clip.failed) return;
    if (clip.writer) {
      clip.writer.write(jpeg);
      return;
    }
    // The pre-roll in `pending` is the ring's own Buffers (shared, not extra memory); room for as
    // much again arriving while the file is being opened.
    if (clip.pendingBytes + jpeg.length > 2 * this.maxBuffer && clip.pending.length > 0) {
      clip.dropped++;
      return;
    }
    clip.pending.push(jpeg);
    clip.pendingBytes += jpeg.length;
  }

  private async setup(clip: Clip): Promise<void> {
    try {
      await this.started;
      if (!this.formatReady) throw new Error('the recorder was closed before it started');
      const format = await this.formatReady;
      // Unusable at start or at the last clip? Maybe fixed since (a disk mounted, permissions
      // changed): try again for this clip.
      if (!(await (this.folderOk as Promise<boolean>))) {
        this.folderOk = this.store.prepare().then(() => true);
        await this.folderOk;
      }
      const name = await this.store.reserve(clip.grid.start ?? clip.alarmAt, this.label, format);
      clip.name = name;
      if (this.active === clip && this._state.phase === 'recording') this.setState({ clip: name, format });
      const path = this.store.tempPath(name);
      const rate = clip.grid.rate;
      // A full disk or a dying encoder is reported when it happens, not when the clip ends.
      const onFailure = (err: Error): void => this.lose(clip, err);
      clip.writer =
        format === 'mp4' && this.ffmpegPath
          ? new Mp4Writer({ path, rate, ffmpeg: this.ffmpegPath, maxQueuedBytes: this.maxBuffer, onFailure })
          : new AviWriter({ path, rate, maxQueuedBytes: this.maxBuffer, onFailure });
      for (const jpeg of clip.pending) clip.writer.write(jpeg);
      clip.pending = [];
      clip.pendingBytes = 0;
    } catch (err) {
      this.folderOk = Promise.resolve(false);
      this.lose(clip, err);
    }
  }

  private schedule(clip: Clip): void {
    this.clock.clearTimeout(clip.timer);
    clip.timer = this.clock.setTimeout(() => this.end(clip), Math.max(0, clip.until - this.clock.now()));
  }

  /** Recording time is over: close the grid, finish the file in the background. */
  private end(clip: Clip, at = clip.until): void {
    this.clock.clearTimeout(clip.timer);
    clip.timer = undefined;
    if (this.active !== clip) return;
    this.active = undefined;
    const hold = Math.max(3000 / clip.grid.rate, 2000);
    clip.grid.close(at, hold);
    // Clips are announced in the order they were recorded, whichever finishes writing first.
    const done = this.complete(clip, this.announced).finally(() => this.finishing.delete(clip));
    this.announced = done;
    this.finishing.set(clip, done);
    // Alarms asked for more than one clip may hold: go on in a new clip from here.
    if (!this.closed && clip.carryUntil > at) this.begin(clip.alarmAt, clip.carryUntil, at);
    else if (this._state.phase === 'recording') this.setState({ phase: 'idle' });
  }

  private async complete(clip: Clip, previous: Promise<void>): Promise<void> {
    await clip.setup;
    const { writer, name } = clip;
    if (clip.failed || !writer || !name) {
      await writer?.abort();
      if (name) await this.store.discard(name);
      return;
    }
    if (clip.grid.frames === 0) {
      await writer.abort();
      await this.store.discard(name);
      this.emit('warn', `no camera frames arrived around the alarm at ${new Date(clip.alarmAt).toISOString()}: no clip`);
      return;
    }
    try {
      const result = await writer.finish();
      await previous;
      const start = clip.grid.start as number;
      const end = clip.grid.end as number;
      const file = await this.store.commit(name, { start, end });
      const clipResult: ClipResult = {
        name,
        path: file,
        format: writer.format,
        start,
        end,
        frames: result.frames,
        bytes: result.bytes,
        durationS: Math.round((result.frames / clip.grid.rate) * 1000) / 1000,
        alarmAt: clip.alarmAt,
        extendedBy: clip.extendedBy,
        dropped: result.dropped + clip.dropped,
      };
      if (this._state.phase === 'error') this.setState({ phase: this.active ? 'recording' : 'idle' });
      this.emit('clip', clipResult);
      this.prune();
    } catch (err) {
      this.lose(clip, err);
      await writer.abort();
      await this.store.discard(name);
    }
  }

  /** A clip cannot be written: error state and event; its frames are let go. */
  private lose(clip: Clip, err: unknown): void {
    if (clip.failed) return;
    clip.failed = err instanceof Error ? err : new Error(String(err));
    clip.pending = [];
    clip.pendingBytes = 0;
    const e = new Error(`clip ${clip.name ?? `for the alarm at ${new Date(clip.alarmAt).toISOString()}`} not recorded: ${clip.failed.message}`);
    if (!this.closed) this.setState({ phase: 'error', error: e.message });
    this.emit('error', e);
  }

  /** Run retention now (also after each clip and every `pruneEveryMs`); one run at a time. */
  prune(): Promise<void> {
    if (this.pruning) return this.pruning;
    this.pruning = this.store
      .prune()
      .then((r) => {
        if (r.deleted.length > 0) this.emit('deleted', r.deleted);
        if (r.overQuota) this.emit('warn', r.overQuota);
      })
      .catch((err: unknown) => {
        this.emit('warn', `retention failed: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => {
        this.pruning = undefined;
      });
    return this.pruning;
  }


  /** Resolves when no clip is being recorded or finished (for tests and close). */
  async idle(): Promise<void> {
    while (this.finishing.size > 0 || this.pruning) {
      await Promise.all([...this.finishing.values(), this.pruning]);
    }
  }

  /**
   * Stop: a clip being recorded ends now and is finished (what was recorded is kept); after
   * `graceMs` on the clock, clips still finishing are aborted and their temporary files removed.
   */
  async close(graceMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearInterval(this.pruneTimer);
    this.markStarted(); // a clip waiting for a start() that never came gives up
    if (this.active) this.end(this.active, this.clock.now());
    let timer: TimerHandle | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(this.finishing.values()), grace]);
    this.clock.clearTimeout(timer);
    // Anything still finishing is cut short (the encoder killed, its temporary file removed).
    for (const clip of this.finishing.keys()) {
      if (!clip.failed) clip.failed = new Error('closed before the clip was complete');
      void clip.writer?.abort();
    }
    await Promise.all(this.finishing.values());
    await this.pruning;
    this.ring.clear();
    this._state = { phase: 'closed', format: this._state.format };
    this.emit('state', this.state);
  }
}
