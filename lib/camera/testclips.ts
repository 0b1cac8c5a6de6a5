/**
 * Deterministic test clips, generated with sharp (no binary fixtures in the repository):
 * - `still`: a textured scene with per-frame sensor noise (no motion);
 * - `moving`: the same scene with a 48×48 dark object moving 4 px per frame (slow motion);
 * - `lighting`: the still scene whose brightness jumps by +48 halfway through (a global
 *   change: every pixel flips, above any sensible `pixelThresholdHi`);
 * - `black`: a camera that is off (all black).
 * Frames are JPEGs; `writeClip` writes them back to back (a raw `.mjpeg` file, which the
 * file source, ffmpeg and camera-sim all read). Used by the tests, the benchmark and the demo.
 */
import fs from 'node:fs';
import sharp from 'sharp';

export type ClipKind = 'still' | 'moving' | 'lighting' | 'black';
export const CLIP_KINDS: readonly ClipKind[] = ['still', 'moving', 'lighting', 'black'];

export interface ClipOptions {
  width?: number;
  height?: number;
  /** Number of frames (default 60: 4 s at 15 fps). */
  frames?: number;
  /** JPEG quality (default 80). */
  quality?: number;
  /** Noise seed (default 1). */
  seed?: number;
  /** Noise amplitude, ± grey levels (default 3). */
  noise?: number;
  /**
   * Amplitude of a fixed fine texture (± grey levels, default 0). Real camera frames carry
   * far more detail than the smooth generated scene, so their JPEGs are 3–5× larger and
   * slower to decode; the benchmark uses 24 to get realistic frame sizes.
   */
  detail?: number;
}

/** mulberry32: a tiny deterministic PRNG (also the hostile suite's, for reproducible fuzz cases). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The static scene: soft gradients, a few "furniture" blocks, in colour. RGB bytes. */
function scene(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const sx = 640 / width;
  const sy = 480 / height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const X = x * sx;
      const Y = y * sy;
      let r = 90 + 40 * Math.sin(X / 97) + Y / 12;
      let g = 100 + 30 * Math.cos(Y / 71) + X / 20;
      let b = 110 + 25 * Math.sin((X + Y) / 130);
      // a bed-like block and a window-like block
      if (X > 80 && X < 330 && Y > 260 && Y < 420) {
        r = 150;
        g = 130;
        b = 120;
      }
      if (X > 430 && X < 580 && Y > 60 && Y < 200) {
        r = 170;
        g = 180;
        b = 190;
      }
      const i = (y * width + x) * 3;
      rgb[i] = r;
      rgb[i + 1] = g;
      rgb[i + 2] = b;
    }
  }
  return rgb;
}

/** The raw RGB frames of a clip (before JPEG encoding). */
export function clipRgbFrames(kind: ClipKind, opts: ClipOptions = {}): Uint8Array[] {
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const frames = opts.frames ?? 60;
  const amp = opts.noise ?? 3;
  const rand = prng(opts.seed ?? 1);
  const base = scene(width, height);
  if (opts.detail && opts.detail > 0) {
    const tex = prng(7);
    const d = opts.detail;
    for (let i = 0; i < base.length; i += 3) {
      const t = Math.round((tex() * 2 - 1) * d);
      for (let c = 0; c < 3; c++) base[i + c] = Math.min(255, Math.max(0, base[i + c] + t));
    }
  }
  const out: Uint8Array[] = [];
  const obj = Math.round(48 * (width / 640));
  for (let f = 0; f < frames; f++) {
    const rgb = new Uint8Array(width * height * 3);
    if (kind === 'black') {
      out.push(rgb);
      continue;
    }
    const lift = kind === 'lighting' && f >= frames / 2 ? 48 : 0;
    for (let i = 0; i < rgb.length; i += 3) {
      const n = Math.round((rand() * 2 - 1) * amp);
      rgb[i] = Math.min(255, Math.max(0, base[i] + lift + n));
      rgb[i + 1] = Math.min(255, Math.max(0, base[i + 1] + lift + n));
      rgb[i + 2] = Math.min(255, Math.max(0, base[i + 2] + lift + n));
    }
    if (kind === 'moving') {
      // 4 px per frame (scaled with the width), bouncing between the left and right thirds.
      const span = Math.max(1, Math.round(width * 0.6));
      const step = Math.max(1, Math.round(4 * (width / 640)));
      const p = (f * step) % (2 * span);
      const x0 = Math.round(width * 0.15) + (p < span ? p : 2 * span - p);
      const y0 = Math.round(height * 0.45);
      for (let y = y0; y < Math.min(height, y0 + obj); y++) {
        for (let x = x0; x < Math.min(width, x0 + obj); x++) {
          const i = (y * width + x) * 3;
          rgb[i] = 35;
          rgb[i + 1] = 30;
          rgb[i + 2] = 40;
        }
      }
    }
    out.push(rgb);
  }
  return out;
}

/** A clip as JPEG frames. Deterministic for the same options and sharp version. */
export async function generateClip(kind: ClipKind, opts: ClipOptions = {}): Promise<Buffer[]> {
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const quality = opts.quality ?? 80;
  const out: Buffer[] = [];
  for (const rgb of clipRgbFrames(kind, opts)) {
    out.push(await sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer());
  }
  return out;
}

/** Write a clip as a raw MJPEG file (JPEGs back to back); returns the frames. */
export async function writeClip(kind: ClipKind, file: string, opts: ClipOptions = {}): Promise<Buffer[]> {
  const frames = await generateClip(kind, opts);
  await fs.promises.writeFile(file, Buffer.concat(frames));
  return frames;
}
