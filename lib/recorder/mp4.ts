/**
 * MP4/H.264 through an ffmpeg child: the clip's JPEGs are streamed to its stdin (raw MJPEG at
 * the grid's rate), it encodes with libx264 to yuv420p at even dimensions (what phone browsers
 * play) and moves the index to the front (`+faststart`) so a browser can start and seek at
 * once. Its CPU is capped — `-preset veryfast`, one thread, a lower scheduling priority — so
 * the detector keeps its rate while a clip encodes. Node's event loop only moves bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { systemClock, type Clock } from '../common/clock';
import { QueuedWriter, type ClipWriterOptions } from './writer';
import type { VideoInfo } from './avi';

/** The ffmpeg arguments for a clip (exported for tests and the help text). */
export function mp4Args(rate: number, out: string): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-threads',
    '1',
    '-f',
    'mjpeg',
    '-framerate',
    String(rate),
    '-i',
    'pipe:0',
    '-an',
    '-filter_threads',
    '1',
    '-vf',
    'scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-threads',
    '1',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    '-y',
    out,
  ];
}

export interface Mp4WriterOptions extends ClipWriterOptions {
  /** The ffmpeg executable. */
  ffmpeg: string;
  /** Scheduling priority for the encoder (nice value, default 10; 0 = unchanged). */
  nice?: number;
}

const STDERR_KEEP = 2048;

export class Mp4Writer extends QueuedWriter {
  readonly format = 'mp4' as const;
  private readonly child: ChildProcess;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitedYet = false;
  private stderr = '';
  private spawnError?: Error;
  /** stdin was ended on purpose: the exit that follows is the normal end. */
  private completing = false;

  constructor(opts: Mp4WriterOptions) {
    super(opts);
    this.child = spawn(opts.ffmpeg, mp4Args(opts.rate, opts.path), { stdio: ['pipe', 'ignore', 'pipe'], windowsHide: true });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.spawnError = err;
        this.fail(new Error(`ffmpeg could not be started (${opts.ffmpeg}): ${err.message}`));
        if (this.child.pid === undefined) {
          this.exitedYet = true;
          resolve({ code: null, signal: null });
        }
      });
      this.child.once('close', (code, signal) => {
        this.exitedYet = true;
        // Exiting before its input ended: the encoder died mid-clip (a full disk, a crash).
        if (!this.completing && !this.failure) this.fail(this.why(signal ? `killed by ${signal}` : `exit code ${code}`));
        resolve({ code, signal });
      });
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-STDERR_KEEP);
    });
    // EPIPE when ffmpeg died: the exit reports why.
    this.child.stdin?.on('error', (err) => this.fail(this.why(err.message)));
    const nice = opts.nice ?? 10;
    if (nice !== 0 && this.child.pid !== undefined) {
      try {
        os.setPriority(this.child.pid, nice);
      } catch {
        // not allowed here: it runs at the normal priority
      }
    }
  }

  private why(fallback: string): Error {
    const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
    return new Error(`ffmpeg failed${tail ? `: ${tail}` : `: ${fallback}`}`);
  }

  protected sink(batch: Buffer[]): Promise<void> {
    const stdin = this.child.stdin;
    if (!stdin || this.exitedYet || stdin.destroyed) return Promise.reject(this.failure ?? this.why('ffmpeg is not running'));
    let ok = true;
    for (const jpeg of batch) ok = stdin.write(jpeg);
    if (ok) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        stdin.off('drain', done);
        stdin.off('close', closed);
        resolve();
      };
      const closed = (): void => {
        stdin.off('drain', done);
        stdin.off('close', closed);
        reject(this.failure ?? this.why('ffmpeg closed its input'));
      };
      stdin.on('drain', done);
      stdin.on('close', closed);
    });
  }

  protected async complete(): Promise<number> {
    this.completing = true;
    this.child.stdin?.end();
    const { code, signal } = await this.exited;
    if (this.spawnError) throw this.failure ?? this.spawnError;
    if (code !== 0) throw this.why(signal ? `killed by ${signal}` : `exit code ${code}`);
    // ffmpeg exits 0 even when it could not write the index ("Error writing trailer … No space
    // left on device"): the file counts only once its index is there and holds the frames.
    const info = await readMp4Info(this.path).catch(() => undefined);
    if (!info || info.frames === 0) throw this.why('the MP4 has no index (is the disk full?)');
    const st = await fs.promises.stat(this.path);
    return st.size;
  }

  protected async stop(): Promise<void> {
    if (!this.exitedYet) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** True when `ffmpeg` runs and has the libx264 encoder (`-encoders`); false otherwise. */
export function hasH264(ffmpeg: string, clock: Clock = systemClock, timeoutMs = 15_000): Promise<boolean> {
  return new Promise((resolve) => {
    let out = '';
    let settled = false;
    const finish = (v: boolean): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      resolve(v);
    };
    let child: ChildProcess;
    try {
      child = spawn(ffmpeg, ['-hide_banner', '-encoders'], { stdio: ['ignore', 'pipe', 'ignore'], windowsHide: true });
    } catch {
      resolve(false);
      return;
    }
    const timer = clock.setTimeout(() => {
      child.kill('SIGKILL');
      finish(false);
    }, timeoutMs);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => {
      if (out.length < 1_000_000) out += s;
    });
    child.once('error', () => finish(false));
    child.once('close', (code) => finish(code === 0 && /^\s*V\S*\s+libx264\s/m.test(out)));
  });
}

// ------------------------------------------------------------------ reading an MP4's header

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);

/** The first box of `type` inside `buf` (descending into container boxes), as [bodyStart, bodyEnd]. */
function findBox(buf: Buffer, type: string, from = 0, to = buf.length): [number, number] | undefined {
  let i = from;
  while (i + 8 <= to) {
    let size = buf.readUInt32BE(i);
    const t = buf.toString('latin1', i + 4, i + 8);
    let head = 8;
    if (size === 1) {
      if (i + 16 > to) return undefined;
      size = Number(buf.readBigUInt64BE(i + 8));
      head = 16;
    } else if (size === 0) size = to - i;
    if (size < head) return undefined;
    const end = Math.min(to, i + size);
    if (t === type) return [i + head, end];
    if (CONTAINERS.has(t)) {
      const inner = findBox(buf, type, i + head, end);
      if (inner) return inner;
    }
    i += size;
  }
  return undefined;
}

/** Duration, frame count and size from an MP4's `moov` box, or undefined. */
export function parseMoov(moov: Buffer): VideoInfo | undefined {
  const mvhd = findBox(moov, 'mvhd');
  if (!mvhd) return undefined;
  const [m] = mvhd;
  const v1 = moov[m] === 1;
  const timescale = moov.readUInt32BE(m + (v1 ? 20 : 12));
  const duration = v1 ? Number(moov.readBigUInt64BE(m + 24)) : moov.readUInt32BE(m + 16);
  if (!timescale) return undefined;
  let frames = 0;
  const stsz = findBox(moov, 'stsz');
  if (stsz && stsz[0] + 12 <= stsz[1]) frames = moov.readUInt32BE(stsz[0] + 8);
  let width = 0;
  let height = 0;
  const tkhd = findBox(moov, 'tkhd');
  if (tkhd) {
    const at = tkhd[0] + (moov[tkhd[0]] === 1 ? 88 : 76);
    if (at + 8 <= tkhd[1]) {
      width = moov.readUInt32BE(at) >>> 16;
      height = moov.readUInt32BE(at + 4) >>> 16;
    }
  }
  return { durationS: duration / timescale, frames, width, height };
}

/** Largest `moov` read (a clip's is a few KiB per minute). */
const MAX_MOOV = 16 * 1024 * 1024;

/** Read the top-level boxes of an MP4 file until `moov`, and parse it. */
export async function readMp4Info(file: string): Promise<VideoInfo | undefined> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(16);
    let pos = 0;
    while (pos + 8 <= size) {
      const { bytesRead } = await fh.read(head, 0, 16, pos);
      if (bytesRead < 8) return undefined;
      let boxSize = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      let hdr = 8;
      if (boxSize === 1) {
        if (bytesRead < 16) return undefined;
        boxSize = Number(head.readBigUInt64BE(8));
        hdr = 16;
      } else if (boxSize === 0) boxSize = size - pos;
      if (boxSize < hdr) return undefined;
      if (type === 'moov') {
        if (boxSize > MAX_MOOV) return undefined;
        const moov = Buffer.alloc(boxSize);
        await fh.read(moov, 0, boxSize, pos);
        return parseMoov(moov.subarray(hdr));
      }
      pos += boxSize;
    }
    return undefined;
  } finally {
    await fh.close();
  }
}
