/**
 * The OpenCV engine: `@u4/opencv4nodejs` built against the system's OpenCV. Decodes straight
 * to grey (reduced by 2/4/8 inside the JPEG decoder when the frame is at least that many
 * times wider than `resizeWidth`), resizes the rest of the way keeping the aspect ratio, blurs,
 * accumulates, differences, thresholds, dilates, counts. Every intermediate `Mat` is
 * released explicitly: the GC does not see their native size, and at 1080p RSS otherwise
 * climbs past 1 GB.
 *
 * The decode (the heavy step) runs on libuv's thread pool (`imdecodeAsync`) for anything but
 * tiny frames; the rest runs at the processing size (640 wide by default), about half a
 * millisecond, on the caller's thread, in place on buffers kept between frames.
 * The module is optional: {@link loadOpenCv} reports why when it cannot be loaded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EngineResult, EngineSettings, FrameError, MotionEngine, checkJpeg, targetSize } from './engine';

/** The part of @u4/opencv4nodejs' Mat this engine uses (the package is optional, so no type import). */
export interface CvMat {
  readonly rows: number;
  readonly cols: number;
  release(): void;
  convertTo(type: number, alpha?: number, beta?: number): CvMat;
  absdiff(other: CvMat): CvMat;
  dilate(kernel: CvMat, anchor?: unknown, iterations?: number, borderType?: number): CvMat;
  countNonZero(): number;
  gaussianBlur(kSize: unknown, sigmaX: number, sigmaY?: number, borderType?: number): CvMat;
  resize(rows: number, cols: number, fx?: number, fy?: number, interpolation?: number): CvMat;
  getData(): Buffer;
}

/** The part of the @u4/opencv4nodejs module this engine uses. */
export interface CvModule {
  version: { major: number; minor: number; revision: number };
  imdecode(buf: Buffer, flags?: number): CvMat;
  imdecodeAsync(buf: Buffer, flags?: number): Promise<CvMat>;
  accumulateWeighted(src: CvMat, dst: CvMat, alpha: number): void;
  getStructuringElement(shape: number, size: unknown): CvMat;
  Size: new (width: number, height: number) => unknown;
  Point2: new (x: number, y: number) => unknown;
  CV_8U: number;
  CV_32F: number;
  INTER_AREA: number;
  INTER_LINEAR: number;
  MORPH_RECT: number;
  IMREAD_GRAYSCALE: number;
  IMREAD_REDUCED_GRAYSCALE_2: number;
  IMREAD_REDUCED_GRAYSCALE_4: number;
  IMREAD_REDUCED_GRAYSCALE_8: number;
}

let cached: { cv?: CvModule; reason?: string } | undefined;

/** Frames above either size decode asynchronously (see `process`): every real camera frame. */
const ASYNC_DECODE_BYTES = 16 * 1024;
const ASYNC_DECODE_PIXELS = 160_000;

/** Whether the installed @u4/opencv4nodejs has its compiled binding (its install script may never have run). */
function bindingBuilt(): boolean {
  // Its package.json is not exported: look for the package folder on the module search paths.
  const dir = (require.resolve.paths('@u4/opencv4nodejs') ?? []).map((p) => path.join(p, '@u4', 'opencv4nodejs')).find((d) => fs.existsSync(path.join(d, 'package.json')));
  return dir === undefined || fs.existsSync(path.join(dir, 'build', 'Release', 'opencv4nodejs.node'));
}

/**
 * Load @u4/opencv4nodejs once (about 0.7 s the first time). Returns the module, or the
 * reason it is unavailable (not installed, binding not built, system OpenCV missing).
 */
export function loadOpenCv(): { cv?: CvModule; reason?: string } {
  if (cached) return cached;
  try {
    try {
      // Keep opencv-build's npmlog quiet (it prints build-environment chatter on require).
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional module, loaded on demand
      (require('@u4/opencv-build') as { Log: { silence: boolean } }).Log.silence = true;
    } catch {
      // opencv-build is a dependency of opencv4nodejs; if it is absent the next require says why.
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native module, loaded on demand
    const cv = require('@u4/opencv4nodejs') as CvModule;
    if (typeof cv.imdecodeAsync !== 'function' || typeof cv.accumulateWeighted !== 'function') {
      cached = { reason: '@u4/opencv4nodejs loaded but lacks imdecodeAsync/accumulateWeighted (version mismatch?)' };
    } else {
      cached = { cv };
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const code = (err as { code?: string }).code;
    const otherNode = /did not self-register|NODE_MODULE_VERSION/.test(msg);
    cached = {
      reason:
        code === 'MODULE_NOT_FOUND' && /opencv4nodejs/.test(msg)
          ? '@u4/opencv4nodejs is not installed (optional; needs the system OpenCV, e.g. apt-get install libopencv-dev)'
          : !bindingBuilt()
            ? '@u4/opencv4nodejs is not built (needs the system OpenCV: apt-get install libopencv-dev, then npm run setup)'
            : otherNode
            ? `@u4/opencv4nodejs was built for another Node.js version (${process.version} here): rebuild it with \`npm rebuild @u4/opencv4nodejs\` (${msg})`
            : `@u4/opencv4nodejs failed to load: ${msg}`,
    };
  }
  return cached;
}

/** The IMREAD flag and reduction factor for decoding `srcWidth` towards `resizeWidth`. */
export function reducedDecode(cv: CvModule, srcWidth: number, resizeWidth: number): { flag: number; factor: number } {
  if (resizeWidth > 0) {
    if (srcWidth >= resizeWidth * 8) return { flag: cv.IMREAD_REDUCED_GRAYSCALE_8, factor: 8 };
    if (srcWidth >= resizeWidth * 4) return { flag: cv.IMREAD_REDUCED_GRAYSCALE_4, factor: 4 };
    if (srcWidth >= resizeWidth * 2) return { flag: cv.IMREAD_REDUCED_GRAYSCALE_2, factor: 2 };
  }
  return { flag: cv.IMREAD_GRAYSCALE, factor: 1 };
}

/**
 * The interpolation for the resize left after the reduced decode. Less than 2× to go (1080p:
 * 960 → 640) takes bilinear: 6× cheaper than INTER_AREA there (0.1 ms against 0.6 ms) and,
 * under the k×k blur that follows, within 0.3% of its counts. A larger step, or an upscale,
 * takes INTER_AREA.
 */
export function resizeInterpolation(cv: CvModule, fromWidth: number, toWidth: number): number {
  const step = fromWidth / toWidth;
  return step > 1 && step < 2 ? cv.INTER_LINEAR : cv.INTER_AREA;
}

export class OpenCvEngine implements MotionEngine {
  readonly name = 'opencv' as const;
  private readonly cv: CvModule;
  private settings: EngineSettings;
  /** The running average A (float), updated in place, and F as float (scratch kept per frame size). */
  private avg?: CvMat;
  private f?: CvMat;
  private width = 0;
  private height = 0;
  private kernel?: CvMat;
  private closed = false;

  /** Decode on the calling thread even for large frames (inside a worker of the pool, which is itself off the event loop). */
  private readonly inline: boolean;

  constructor(cv: CvModule, settings: EngineSettings, opts: { inline?: boolean } = {}) {
    this.cv = cv;
    this.settings = { ...settings };
    this.inline = opts.inline ?? false;
  }

  configure(settings: EngineSettings): void {
    this.settings = { ...settings };
    this.reset();
  }

  reset(): void {
    this.avg?.release();
    this.avg = undefined;
  }

  async process(jpeg: Buffer): Promise<EngineResult> {
    if (this.closed) throw new Error('opencv engine closed');
    const cv = this.cv;
    const s = this.settings;
    const src = checkJpeg(jpeg);
    const size = targetSize(src.width, src.height, s.resizeWidth);
    const { flag } = reducedDecode(cv, src.width, s.resizeWidth);
    let grey: CvMat;
    try {
      // Camera frames decode on libuv's thread pool, so the event loop only carries the ~0.5 ms
      // of work at the processing size; a tiny frame decodes inline (the round trip would cost more).
      const { factor } = reducedDecode(cv, src.width, s.resizeWidth);
      const pixels = (src.width * src.height) / (factor * factor);
      grey = !this.inline && (jpeg.length > ASYNC_DECODE_BYTES || pixels > ASYNC_DECODE_PIXELS) ? await cv.imdecodeAsync(jpeg, flag) : cv.imdecode(jpeg, flag);
    } catch (err) {
      throw new FrameError(`JPEG could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (this.closed) {
      grey.release();
      throw new Error('opencv engine closed');
    }
    if (!grey || grey.rows === 0 || grey.cols === 0) {
      grey?.release();
      throw new FrameError('JPEG could not be decoded (empty image)');
    }
    const mats: CvMat[] = [grey];
    try {
      let g = grey;
      if (g.cols !== size.width || g.rows !== size.height) {
        g = grey.resize(size.height, size.width, 0, 0, resizeInterpolation(cv, g.cols, size.width));
        mats.push(g);
      }
      let resized = false;
      if (this.avg && (g.cols !== this.width || g.rows !== this.height)) {
        this.reset();
        resized = true;
      }
      this.width = g.cols;
      this.height = g.rows;
      const k = Math.max(1, Math.floor(s.gaussKsize));
      const blurred = k > 1 ? g.gaussianBlur(new cv.Size(k, k), 0) : g;
      if (blurred !== g) mats.push(blurred);
      // Float images come from convertTo: `new Mat(rows, cols, CV_32F, 0)` fills element by element
      // in the binding, ~7 ms at 640×480, a stall on the event loop at every start and reset.
      if (!this.avg) {
        // The first frame is the background: A = F, nothing changed.
        this.avg = blurred.convertTo(cv.CV_32F);
        return { count: 0, width: g.cols, height: g.rows, resized };
      }
      // F as float (absdiff wants both sides float), into a buffer kept per frame size.
      if (!this.f || this.f.cols !== g.cols || this.f.rows !== g.rows) {
        this.f?.release();
        this.f = blurred.convertTo(cv.CV_32F);
      } else {
        cv.accumulateWeighted(blurred, this.f, 1); // weight 1 replaces the old content, in place
      }
      cv.accumulateWeighted(blurred, this.avg, s.avgWeighting); // A ← (1 − α)·A + α·F, in place, before the difference
      const diff = this.avg.absdiff(this.f); // |A − F|, exact in float
      mats.push(diff);
      // |A − F| > t as an 8-bit mask in the same pass as the conversion: saturate(round(d + ½ − t))
      // is ≥ 1 exactly when d > t (d = t gives ½, which rounds half to even, to 0).
      const mask = diff.convertTo(cv.CV_8U, 1, 0.5 - s.fixedLvlThreshold);
      mats.push(mask);
      const iterations = Math.max(0, Math.floor(s.dilationIterations));
      if (iterations > 0) {
        if (!this.kernel) this.kernel = cv.getStructuringElement(cv.MORPH_RECT, new cv.Size(3, 3));
        const grown = mask.dilate(this.kernel, new cv.Point2(-1, -1), iterations);
        mats.push(grown);
        return { count: grown.countNonZero(), width: g.cols, height: g.rows, resized };
      }
      return { count: mask.countNonZero(), width: g.cols, height: g.rows, resized };
    } finally {
      for (const m of mats) m.release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reset();
    this.f?.release();
    this.f = undefined;
    this.kernel?.release();
    this.kernel = undefined;
  }
}
