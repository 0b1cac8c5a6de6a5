/**
 * Frame sources. Each one emits `frame` (a JPEG Buffer) while it runs, `open` once it is
 * receiving, `bad` (reason) for a part/frame it had to skip, and ends with exactly one of
 * `error` (Error) or `end` (). `stop()` frees everything (sockets, timers, child process)
 * and emits nothing more. Reconnecting is the Camera's job (lib/camera/camera.ts).
 * Sources that run ffmpeg also emit `binary` (FoundBinary: which ffmpeg, from where) at start.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Clock, TimerHandle, systemClock } from '../common/clock';
import { DigestSession } from '../common/digest';
import { FfmpegNotFoundError, FoundBinary, findFfmpeg } from '../common/ffmpeg';
import { CameraAuth, GetHandle, httpGet } from './http';
import { isJpeg } from '../common/jpeg';
import { splitJpegs } from './jpeg';
import { MjpegParser, boundaryFromContentType } from './mjpeg';

export interface FrameSource extends EventEmitter {
  readonly kind: string;
  start(): void;
  stop(): void;
  /** Resolves once everything `stop()` began to free is gone (a child process has exited). */
  whenStopped?(): Promise<void>;
}

abstract class BaseSource extends EventEmitter implements FrameSource {
  abstract readonly kind: string;
  protected stopped = false;
  private ended = false;

  abstract start(): void;
  protected abstract cleanup(): void;

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cleanup();
  }

  whenStopped(): Promise<void> {
    return Promise.resolve();
  }

  protected frame(jpeg: Buffer): void {
    if (!this.stopped && !this.ended) this.emit('frame', jpeg);
  }

  protected finish(err?: Error): void {
    if (this.stopped || this.ended) return;
    this.ended = true;
    this.cleanup();
    if (err) this.emit('error', err);
    else this.emit('end');
  }
}

// ------------------------------------------------------------------ MJPEG over HTTP

export class MjpegHttpSource extends BaseSource {
  readonly kind = 'mjpeg';
  private handle?: GetHandle;
  private res?: import('node:http').IncomingMessage;
  private readonly digest?: DigestSession;
  private readonly authState: { basic?: boolean } = {};

  constructor(
    private readonly url: string,
    private readonly auth: CameraAuth = {},
  ) {
    super();
    if (auth.username) this.digest = new DigestSession(auth.username, auth.password ?? '');
  }

  start(): void {
    this.handle = httpGet(
      this.url,
      { ...this.auth, digest: this.digest, state: this.authState },
      (res) => {
        if (this.stopped) {
          res.destroy();
          return;
        }
        this.res = res;
        const ct = res.headers['content-type'];
        const boundary = boundaryFromContentType(ct);
        if (ct && /^image\/jpe?g/i.test(ct)) {
          res.destroy();
          this.finish(new Error(`the URL serves a single JPEG (${ct}), not an MJPEG stream: choose source "snapshot"`));
          return;
        }
        if (ct && !/multipart/i.test(ct)) {
          res.destroy();
          this.finish(new Error(`not an MJPEG stream: Content-Type ${ct} (expected multipart/x-mixed-replace)`));
          return;
        }
        const parser = new MjpegParser({ boundary, onFrame: (jpeg) => this.frame(jpeg), onBadPart: (r) => this.emit('bad', r) });
        this.emit('open');
        res.on('data', (chunk: Buffer) => parser.push(chunk));
        res.on('end', () => {
          parser.end();
          this.finish(new Error('the camera closed the stream'));
        });
        res.on('error', (err) => this.finish(err));
        res.on('close', () => this.finish(new Error('the camera closed the stream')));
      },
      (err) => this.finish(err),
    );
  }

  protected cleanup(): void {
    this.handle?.abort();
    this.res?.destroy();
  }
}

// ------------------------------------------------------------------ snapshot poller

export class SnapshotSource extends BaseSource {
  readonly kind = 'snapshot';
  private handle?: GetHandle;
  private timer?: TimerHandle;
  private readonly digest?: DigestSession;
  private readonly authState: { basic?: boolean } = {};
  private opened = false;

  constructor(
    private readonly url: string,
    private readonly intervalMs: number,
    private readonly auth: CameraAuth = {},
    private readonly clock: Clock = systemClock,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {
    super();
    if (auth.username) this.digest = new DigestSession(auth.username, auth.password ?? '');
  }

  start(): void {
    this.poll();
  }

  private poll(): void {
    if (this.stopped) return;
    const began = this.clock.now();
    this.handle = httpGet(
      this.url,
      { ...this.auth, digest: this.digest, state: this.authState },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxBytes) {
            res.destroy();
            this.finish(new Error(`snapshot larger than ${this.maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => this.finish(err));
        res.on('end', () => {
          if (this.stopped) return;
          const body = Buffer.concat(chunks);
          if (!isJpeg(body)) {
            this.finish(new Error(`the snapshot URL did not return a JPEG (${res.headers['content-type'] ?? 'no content-type'}, ${body.length} bytes)`));
            return;
          }
          if (!this.opened) {
            this.opened = true;
            this.emit('open');
          }
          this.frame(body);
          // Single flight: the next request starts one interval after this one began.
          const wait = Math.max(0, this.intervalMs - (this.clock.now() - began));
          this.timer = this.clock.setTimeout(() => this.poll(), wait);
        });
      },
      (err) => this.finish(err),
    );
  }

  protected cleanup(): void {
    this.clock.clearTimeout(this.timer);
    this.handle?.abort();
  }
}

// ------------------------------------------------------------------ ffmpeg

/**
 * Emitted when no ffmpeg can be run: the lookup (lib/common/ffmpeg: the configured path, else
 * PATH, else the npm-shipped one) found none, or the binary it found vanished before the spawn.
 */
export class FfmpegMissingError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'FfmpegMissingError';
  }
}

/** The FfmpegMissingError for a binary that was found but could not be spawned (ENOENT). */
function vanished(bin: string): FfmpegMissingError {
  return new FfmpegMissingError(`ffmpeg was not found at "${bin}": install it, e.g. \`apt-get install ffmpeg\` on Debian/Ubuntu, or set the ffmpeg path`);
}

export interface FfmpegOptions {
  /** Configured executable; unset = looked up (PATH, then the npm-shipped ffmpeg; lib/common/ffmpeg). */
  bin?: string;
  /** Output frame rate (ffmpeg's fps filter); 0 = the source's own. */
  fps?: number;
  /** Extra arguments placed before `-i` (e.g. `-rtsp_transport tcp`). */
  inputArgs?: string[];
  /** Loop a file input forever at its native rate (`-re -stream_loop -1`). */
  loopFile?: boolean;
  /** JPEG quality scale for ffmpeg's mjpeg encoder, 2 (best) … 31 (default 5). */
  quality?: number;
  clock?: Clock;
}

/** The ffmpeg arguments for a URL (exported for tests and the help text). */
export function ffmpegArgs(url: string, o: FfmpegOptions = {}): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  if (/^rtsps?:\/\//i.test(url) && !(o.inputArgs ?? []).includes('-rtsp_transport')) args.push('-rtsp_transport', 'tcp');
  if (o.loopFile) args.push('-re', '-stream_loop', '-1');
  args.push(...(o.inputArgs ?? []), '-i', url, '-an', '-sn', '-dn');
  if (o.fps && o.fps > 0) args.push('-vf', `fps=${o.fps}`);
  args.push('-c:v', 'mjpeg', '-q:v', String(o.quality ?? 5), '-f', 'mpjpeg', 'pipe:1');
  return args;
}

export class FfmpegSource extends BaseSource {
  readonly kind = 'ffmpeg';
  private child?: ChildProcess;
  private killTimer?: TimerHandle;
  private stderrTail = '';
  private readonly clock: Clock;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly opts: FfmpegOptions = {},
  ) {
    super();
    this.clock = opts.clock ?? systemClock;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The ffmpeg this source runs, once started (where it came from: setting, system, bundled). */
  binary?: FoundBinary;

  /** Looks ffmpeg up (emits `binary` with the answer), then spawns it. */
  start(): void {
    let found: FoundBinary;
    try {
      found = findFfmpeg({ configured: this.opts.bin });
    } catch (err) {
      const e = err instanceof FfmpegNotFoundError ? new FfmpegMissingError(err.message) : (err as Error);
      queueMicrotask(() => this.finish(e));
      return;
    }
    this.binary = found;
    this.emit('binary', found);
    const bin = found.path;
    let child: ChildProcess;
    try {
      child = spawn(bin, ffmpegArgs(this.url, this.opts), { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      queueMicrotask(() => this.finish((err as NodeJS.ErrnoException).code === 'ENOENT' ? vanished(bin) : (err as Error)));
      return;
    }
    this.child = child;
    // 'exit' when the process ends; 'close' also after a spawn 'error' (no process, no 'exit').
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('close', () => resolve());
    });
    const parser = new MjpegParser({ boundary: 'ffmpeg', onFrame: (jpeg) => this.frame(jpeg), onBadPart: (r) => this.emit('bad', r) });
    let opened = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!opened) {
        opened = true;
        this.emit('open');
      }
      parser.push(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.finish(err.code === 'ENOENT' ? vanished(bin) : err);
    });
    child.on('exit', (code, signal) => {
      this.clock.clearTimeout(this.killTimer);
      this.child = undefined;
      parser.end();
      const why = this.stderrTail.trim().split('\n').slice(-2).join(' / ');
      if (code === 0) this.finish();
      else this.finish(new Error(`ffmpeg exited (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}`));
    });
  }

  protected cleanup(): void {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // ffmpeg normally exits at once on SIGTERM; make sure.
    this.killTimer = this.clock.setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, 2000);
    child.once('exit', () => this.clock.clearTimeout(this.killTimer));
  }

  /** Resolves when the ffmpeg process has exited (at most about 2 s after `stop()`: SIGKILL). */
  override whenStopped(): Promise<void> {
    return this.exited;
  }
}

// ------------------------------------------------------------------ file

export interface FileSourceOptions extends FfmpegOptions {
  /** Playback rate for MJPEG/JPEG-sequence files (default 15). */
  playbackFps?: number;
  /** Largest file read into memory (default 256 MiB). */
  maxBytes?: number;
}

/**
 * A local file, looped: a directory of JPEGs (sorted by name), a single JPEG, an MJPEG
 * file (JPEGs back to back, or multipart) played at `playbackFps`; anything else is a
 * video handed to ffmpeg (`-re -stream_loop -1`).
 */
export class FileSource extends BaseSource {
  readonly kind = 'file';
  private timer?: TimerHandle;
  private ffmpeg?: FfmpegSource;
  private readonly clock: Clock;

  constructor(
    private readonly file: string,
    private readonly opts: FileSourceOptions = {},
  ) {
    super();
    this.clock = opts.clock ?? systemClock;
  }

  start(): void {
    void this.load().then(
      (frames) => {
        if (this.stopped) return;
        if (frames === 'video') {
          const ff = new FfmpegSource(this.file, { ...this.opts, loopFile: true });
          this.ffmpeg = ff;
          ff.on('frame', (j: Buffer) => this.frame(j));
          ff.on('binary', (b: FoundBinary) => this.emit('binary', b));
          ff.on('open', () => this.emit('open'));
          ff.on('bad', (r: string) => this.emit('bad', r));
          ff.on('error', (e: Error) => this.finish(e));
          ff.on('end', () => this.finish());
          ff.start();
          return;
        }
        if (frames.length === 0) {
          this.finish(new Error(`no JPEG frames in ${this.file}`));
          return;
        }
        this.emit('open');
        let i = 0;
        const fps = this.opts.playbackFps && this.opts.playbackFps > 0 ? this.opts.playbackFps : 15;
        this.frame(frames[i++ % frames.length]);
        this.timer = this.clock.setInterval(() => this.frame(frames[i++ % frames.length]), 1000 / fps);
      },
      (err: Error) => this.finish(err),
    );
  }

  private async load(): Promise<Buffer[] | 'video'> {
    const max = this.opts.maxBytes ?? 256 * 1024 * 1024;
    const st = await fs.promises.stat(this.file);
    if (st.isDirectory()) {
      const names = (await fs.promises.readdir(this.file)).filter((n) => /\.jpe?g$/i.test(n)).sort();
      const out: Buffer[] = [];
      let total = 0;
      for (const n of names) {
        const b = await fs.promises.readFile(path.join(this.file, n));
        total += b.length;
        if (total > max) throw new Error(`JPEG sequence in ${this.file} exceeds ${max} bytes`);
        if (isJpeg(b)) out.push(b);
      }
      return out;
    }
    const fh = await fs.promises.open(this.file, 'r');
    let head: Buffer;
    try {
      head = Buffer.alloc(Math.min(4096, st.size));
      await fh.read(head, 0, head.length, 0);
    } finally {
      await fh.close();
    }
    const multipart = /^\s*--[^\r\n]+\r?\n/.test(head.toString('latin1'));
    if (!isJpeg(head) && !multipart) return 'video';
    if (st.size > max) throw new Error(`${this.file} is larger than ${max} bytes; play it through ffmpeg (source "ffmpeg")`);
    const data = await fs.promises.readFile(this.file);
    if (!multipart) return splitJpegs(data);
    const frames: Buffer[] = [];
    const parser = new MjpegParser({ onFrame: (j) => frames.push(j) });
    parser.push(data);
    parser.end();
    return frames;
  }

  protected cleanup(): void {
    this.clock.clearInterval(this.timer);
    this.ffmpeg?.stop();
  }

  override whenStopped(): Promise<void> {
    return this.ffmpeg?.whenStopped() ?? Promise.resolve();
  }
}

// ------------------------------------------------------------------ run-time URL rule

/** Schemes ffmpeg may be pointed at at run time: network protocols only (no `file:`, `concat:`, devices, bare paths). */
const NETWORK_URL = /^(rtsps?|rtmps?|rtp|srt|udp|tcp|https?|mmsh?|mmst):\/\//i;

/**
 * Why `proposed` can't become the camera's URL at run time (a `config_update`), or undefined.
 * A client never chooses a local path: a `file` camera's path is set in the node's settings
 * only (a run-time change is refused); an `ffmpeg` camera takes only network URLs at run time
 * (ffmpeg opens local files and devices too); `mjpeg` and `snapshot` take http(s) URLs. The
 * current URL sent back unchanged is always fine.
 */
export function runtimeUrlProblem(source: string, current: string, proposed: string): string | undefined {
  const url = proposed.trim();
  if (url === current.trim()) return undefined;
  switch (source) {
    case 'file':
      return "a file camera's path is set in the node's settings only: it can't change at run time";
    case 'ffmpeg':
      return NETWORK_URL.test(url) || url === '' ? undefined : 'only a network URL (rtsp://, http(s)://, rtmp://, srt://, udp://, …) can be set at run time, never a local path';
    case 'mjpeg':
    case 'snapshot':
      return /^https?:\/\//i.test(url) || url === '' ? undefined : 'an http:// or https:// URL is expected';
    default:
      return undefined;
  }
}
