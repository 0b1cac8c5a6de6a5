/**
 * Test clips (lib/camera/testclips.ts), generated once per test process and cached, plus
 * small frame helpers for the camera and motion tests.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ClipKind, generateClip } from '../../lib/camera/testclips';
import { findFfmpeg } from '../../lib/common/ffmpeg';
import type { MotionEngine } from '../../lib/motion/engine';

const cache = new Map<string, Promise<Buffer[]>>();

/** The clip's JPEG frames (640×480, 60 frames at 15 fps unless told). */
export function clip(kind: ClipKind, opts: { width?: number; height?: number; frames?: number } = {}): Promise<Buffer[]> {
  const key = `${kind}/${opts.width ?? 640}/${opts.height ?? 480}/${opts.frames ?? 60}`;
  let p = cache.get(key);
  if (!p) {
    p = generateClip(kind, opts);
    cache.set(key, p);
  }
  return p;
}

/**
 * `frames` written as an MPEG-4 video (`name`, 15 fps) in `dir`, encoded by the ffmpeg the
 * lookup finds (system, else the npm-shipped one; VIGIL_FFMPEG forces one). Returns its path.
 */
export function videoFile(dir: string, frames: Buffer[], name = 'clip.avi'): string {
  const raw = path.join(dir, `${name}.mjpeg`);
  fs.writeFileSync(raw, Buffer.concat(frames));
  const video = path.join(dir, name);
  execFileSync(findFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-f', 'mjpeg', '-framerate', '15', '-i', raw, '-c:v', 'mpeg4', '-q:v', '3', video]);
  return video;
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix = 'vigil-cam-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Hooks for a describe block: before each test a new temporary folder is handed to `use`;
 * after it the folder is removed (after the afterEach hooks registered before this call).
 */
export function eachTestInTempDir(prefix: string, use: (dir: string) => void): void {
  let cleanup = (): void => undefined;
  beforeEach(function () {
    const t = tempDir(prefix);
    cleanup = t.cleanup;
    use(t.dir);
  });
  afterEach(function () {
    cleanup();
  });
}

/** A lossless-as-possible grey JPEG (quality 100, no chroma) of a grey frame. */
export function greyJpeg(grey: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(grey.buffer, grey.byteOffset, grey.byteLength), { raw: { width, height, channels: 1 } })
    .jpeg({ quality: 100 })
    .toBuffer();
}

/** A uniform frame with optional 40×40 squares of value 200 at the given top-left corners. */
export function squareFrame(width: number, height: number, background: number, squares: Array<[number, number]> = []): Uint8Array {
  const g = new Uint8Array(width * height).fill(background);
  for (const [x0, y0] of squares) {
    for (let y = y0; y < y0 + 40; y++) for (let x = x0; x < x0 + 40; x++) g[y * width + x] = 200;
  }
  return g;
}

/** The engine's changed-pixel count for each frame in turn; the engine is closed afterwards. */
export async function countsOf(engine: MotionEngine, frames: Buffer[]): Promise<number[]> {
  try {
    const out: number[] = [];
    for (const f of frames) out.push((await engine.process(f)).count);
    return out;
  } finally {
    await engine.close();
  }
}
