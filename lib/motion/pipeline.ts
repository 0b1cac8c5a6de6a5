/**
 * The pixel pipeline in plain TypeScript typed-array loops (docs/camera-alarm.md §2.3), used by
 * the sharp engine and as the reference the OpenCV engine is checked against:
 * BT.601 luma → Gaussian blur (OpenCV's bit-exact 8-bit fixed-point kernel, reflect-101
 * borders, rounded to 8 bits) → running average updated before the difference →
 * |A − F| > threshold → N real 3×3 dilations → count.
 */

/** The processing settings that change pixel counts. */
export interface PipelineSettings {
  /** Weight α of the running average (avg_weighting). */
  avgWeighting: number;
  /** A pixel counts when |A − F| is strictly greater than this. */
  fixedLvlThreshold: number;
  /** Odd Gaussian kernel size (gauss_ksize); 1 = no blur. */
  gaussKsize: number;
  /** Real N iterations of a 3×3 dilation (0 = none). */
  dilationIterations: number;
}

/**
 * OpenCV's fixed-point Gaussian kernel for 8-bit images (sigma 0 → derived from k), as
 * integers in units of 1/256 that sum to exactly 256 (`getGaussianKernelBitExact`).
 */
export function gaussianKernelQ8(k: number): Int32Array {
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0) throw new RangeError(`gaussian ksize must be a positive odd integer, got ${k}`);
  const fixed: Record<number, number[]> = {
    1: [256],
    3: [64, 128, 64],
    5: [16, 64, 96, 64, 16],
    7: [8, 28, 56, 72, 56, 28, 8],
  };
  if (fixed[k]) return Int32Array.from(fixed[k]);
  const sigma = k * 0.15 + 0.35;
  const scale2 = (-0.5 * 0.25) / (sigma * sigma);
  const half = (k - 1) / 2;
  const values: number[] = [];
  let sum = 0;
  for (let i = 0, x = 1 - k; i < half; i++, x += 2) {
    const t = Math.exp(x * x * scale2);
    values.push(t);
    sum += t;
  }
  sum = sum * 2 + 1;
  const out = new Int32Array(k);
  // Round the running sum, not each tap (checked against OpenCV 4.6's output for k = 9…21).
  let cum = 0;
  let fixedSum = 0;
  for (let i = 0; i < half; i++) {
    cum += (values[i] / sum) * 256;
    const q = Math.round(cum) - fixedSum;
    out[i] = q;
    out[k - 1 - i] = q;
    fixedSum += q;
  }
  out[half] = 256 - 2 * fixedSum;
  return out;
}

/** BT.601 luma of interleaved RGB(A) bytes, rounded like OpenCV's cvtColor (fixed point, 14 bits). */
export function lumaFromRgb(rgb: Uint8Array, channels: number, out: Uint8Array): Uint8Array {
  // cvtColor RGB2GRAY: (R*4899 + G*9617 + B*1868 + 8192) >> 14
  const n = out.length;
  for (let i = 0, j = 0; i < n; i++, j += channels) {
    out[i] = (rgb[j] * 4899 + rgb[j + 1] * 9617 + rgb[j + 2] * 1868 + 8192) >> 14;
  }
  return out;
}

/** Reflect-101 index (…2 1 | 0 1 2 … n-1 | n-2 …) for the blur borders. */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * n - 2 - i;
  }
  return i;
}

/**
 * Reusable buffers for one frame size, so a steady stream allocates nothing per frame.
 */
export class BlurScratch {
  readonly width: number;
  readonly height: number;
  /** Horizontal pass, in 1/256 units: exact and at most 255·256, so 16 bits hold it. */
  readonly h: Uint16Array;
  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.h = new Uint16Array(width * height);
  }
}


type HorizontalKernel = (src: Uint8Array, out: Uint16Array, width: number, size: number) => void;
type VerticalKernel = (src: Uint16Array, out: Uint8Array, width: number, height: number) => void;

const hKernels = new Map<number, HorizontalKernel>();
const vKernels = new Map<number, VerticalKernel>();

/**
 * The interior loops, generated once per kernel size with the taps as constants: a sliding
 * window of k locals moves along each row (horizontal pass) or down each column (vertical
 * pass), so each pixel costs one array load instead of k. With the taps folded (the kernel is
 * symmetric) that is (k+1)/2 multiplies. About 3× faster in V8 than a loop over the taps,
 * which keeps the sharp engine's JavaScript near 3 ms a 640×480 frame. The generated code
 * only does integer arithmetic on the typed arrays passed in.
 */
function slidingBody(k: number, load: string, step: string, store: (sum: string) => string, start: (j: number) => string): string {
  const kq = gaussianKernelQ8(k);
  const r = (k - 1) >> 1;
  let b = '';
  for (let j = 0; j < k - 1; j++) b += `let s${j} = src[${start(j)}];\n`;
  b += `let s${k - 1} = 0;\n`;
  let sum = `s${r} * ${kq[r]}`;
  for (let j = 1; j <= r; j++) sum += ` + (s${r - j} + s${r + j}) * ${kq[r - j]}`;
  b += `for (${load}; ${step}) {\n  s${k - 1} = src[i];\n  ${store(sum)}\n `;
  for (let j = 0; j < k - 1; j++) b += ` s${j} = s${j + 1};`;
  b += '\n}\n';
  return b;
}

/** The kernel of size `k` from `cache`, compiled from `body(r)` (r = its radius) the first time. */
function compiled<F>(cache: Map<number, F>, k: number, params: string[], body: (r: number) => string): F {
  let fn = cache.get(k);
  if (!fn) {
    fn = new Function(...params, body((k - 1) >> 1)) as F;
    cache.set(k, fn);
  }
  return fn;
}

function horizontalKernel(k: number): HorizontalKernel {
  return compiled(hKernels, k, ['src', 'out', 'width', 'size'], (r) =>
    'for (let row = 0; row < size; row += width) {\n const end = row + width;\n' +
    slidingBody(k, `let i = row + ${k - 1}, c = row + ${r}`, 'i < end; i++, c++', (sum) => `out[c] = ${sum};`, (j) => `row + ${j}`) +
    '}',
  );
}

function verticalKernel(k: number): VerticalKernel {
  return compiled(vKernels, k, ['src', 'out', 'width', 'height'], (r) =>
    'const end = height * width;\nfor (let x = 0; x < width; x++) {\n' +
    slidingBody(k, `let i = ${k - 1} * width + x, c = ${r} * width + x`, 'i < end; i += width, c += width', (sum) => `out[c] = (${sum} + 32768) >>> 16;`, (j) => `${j} * width + x`) +
    '}',
  );
}

/**
 * Separable Gaussian blur of an 8-bit grey image, bit-exact with OpenCV's 8U fixed-point
 * path: the horizontal pass is exact in 1/256 units, the vertical pass exact in 1/65536
 * units, then rounded half up to 8 bits. Borders reflect-101.
 */
export function gaussianBlur(src: Uint8Array, width: number, height: number, k: number, out: Uint8Array, scratch?: BlurScratch): Uint8Array {
  if (k === 1) {
    out.set(src);
    return out;
  }
  const kq = gaussianKernelQ8(k);
  const r = (k - 1) >> 1;
  const s = scratch && scratch.width === width && scratch.height === height ? scratch : new BlurScratch(width, height);
  const hbuf = s.h;
  const hk = horizontalKernel(k);
  // Horizontal pass.
  const xlo = Math.min(r, width);
  const xhi = Math.max(xlo, width - r);
  if (width > 2 * r) hk(src, hbuf, width, width * height);
  const edgeXs: number[] = [];
  for (let x = 0; x < xlo; x++) edgeXs.push(x);
  for (let x = xhi; x < width; x++) edgeXs.push(x);
  hEdges(src, hbuf, width, height, kq, edgeXs);
  // Vertical pass.
  const ylo = Math.min(r, height);
  const yhi = Math.max(ylo, height - r);
  for (let y = 0; y < ylo; y++) vEdgeRow(hbuf, y, width, height, kq, r, out);
  if (height > 2 * r) verticalKernel(k)(hbuf, out, width, height);
  for (let y = yhi; y < height; y++) vEdgeRow(hbuf, y, width, height, kq, r, out);
  return out;
}

/** Reflect-101 column offsets for the left/right edge pixels: `cols[e * k + j]`. */
function edgeColumns(width: number, k: number, xs: number[]): Int32Array {
  const r = (k - 1) >> 1;
  const cols = new Int32Array(xs.length * k);
  xs.forEach((x, e) => {
    for (let j = -r; j <= r; j++) cols[e * k + j + r] = reflect101(x + j, width);
  });
  return cols;
}

function hEdges(src: Uint8Array, hbuf: Uint16Array, width: number, height: number, kq: Int32Array, xs: number[]): void {
  const k = kq.length;
  const cols = edgeColumns(width, k, xs);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let e = 0; e < xs.length; e++) {
      let acc = 0;
      const base = e * k;
      for (let j = 0; j < k; j++) acc += src[row + cols[base + j]] * kq[j];
      hbuf[row + xs[e]] = acc;
    }
  }
}

function vEdgeRow(hbuf: Uint16Array, y: number, width: number, height: number, kq: Int32Array, r: number, out: Uint8Array): void {
  const row = y * width;
  const k = kq.length;
  const rows = new Int32Array(k);
  for (let j = -r; j <= r; j++) rows[j + r] = reflect101(y + j, height) * width;
  for (let x = 0; x < width; x++) {
    let acc = 0;
    for (let j = 0; j < k; j++) acc += hbuf[rows[j] + x] * kq[j];
    out[row + x] = (acc + 32768) >>> 16;
  }
}

/**
 * One pass over a blurred frame: update the running average first (A ← (1−α)A + αF, or
 * A = F on the first frame), then mark |A − F| > threshold. Returns the count of changed
 * pixels; writes the mask (0/1) only when `mask` is given (needed for dilation).
 */
export function accumulateDiffCount(blurred: Uint8Array, avg: Float32Array, alpha: number, threshold: number, first: boolean, mask?: Uint8Array): number {
  const n = blurred.length;
  if (first) {
    for (let i = 0; i < n; i++) avg[i] = blurred[i];
    if (mask) mask.fill(0);
    return 0;
  }
  const a = Math.fround(alpha);
  const b = Math.fround(1 - alpha);
  let count = 0;
  if (mask) {
    for (let i = 0; i < n; i++) {
      const f = blurred[i];
      avg[i] = f * a + avg[i] * b;
      const d = avg[i] - f;
      const m = d > threshold || d < -threshold ? 1 : 0;
      mask[i] = m;
      count += m;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const f = blurred[i];
      avg[i] = f * a + avg[i] * b;
      const d = avg[i] - f;
      if (d > threshold || d < -threshold) count++;
    }
  }
  return count;
}

/**
 * `iterations` real 3×3 dilations of a 0/1 mask (pixels outside the image never set a
 * neighbour, as OpenCV's default dilation border). Returns the count of set pixels.
 */
export function dilateCount(mask: Uint8Array, width: number, height: number, iterations: number, tmp: Uint8Array): number {
  const src = mask;
  const dst = tmp;
  for (let it = 0; it < iterations; it++) {
    // Horizontal max, then vertical max (a 3×3 square is separable).
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const c = row + x;
        dst[c] = src[c] | (x > 0 ? src[c - 1] : 0) | (x + 1 < width ? src[c + 1] : 0);
      }
    }
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const c = row + x;
        src[c] = dst[c] | (y > 0 ? dst[c - width] : 0) | (y + 1 < height ? dst[c + width] : 0);
      }
    }
  }
  let count = 0;
  for (let i = 0; i < src.length; i++) count += src[i];
  return count;
}

/**
 * The stateful per-frame detector over grey frames: holds the background and scratch
 * buffers for one frame size. A different size resets the background (reported by
 * `process` returning `reset: true`).
 */
export class GreyDetector {
  private settings: PipelineSettings;
  private width = 0;
  private height = 0;
  private avg: Float32Array = new Float32Array(0);
  private blurred: Uint8Array = new Uint8Array(0);
  private mask: Uint8Array = new Uint8Array(0);
  private tmp: Uint8Array = new Uint8Array(0);
  private scratch?: BlurScratch;
  private hasBackground = false;

  constructor(settings: PipelineSettings) {
    this.settings = { ...settings };
  }

  configure(settings: PipelineSettings): void {
    this.settings = { ...settings };
    this.reset();
  }

  reset(): void {
    this.hasBackground = false;
  }

  /** Count changed pixels in one grey frame. `resized` is true when the size changed and the background was reset. */
  process(grey: Uint8Array, width: number, height: number): { count: number; resized: boolean } {
    if (grey.length !== width * height) throw new RangeError(`grey frame is ${grey.length} bytes, expected ${width}×${height}`);
    let resized = false;
    if (width !== this.width || height !== this.height) {
      resized = this.width !== 0;
      this.width = width;
      this.height = height;
      const n = width * height;
      this.avg = new Float32Array(n);
      this.blurred = new Uint8Array(n);
      this.mask = new Uint8Array(n);
      this.tmp = new Uint8Array(n);
      this.scratch = new BlurScratch(width, height);
      this.hasBackground = false;
    }
    const s = this.settings;
    gaussianBlur(grey, width, height, s.gaussKsize, this.blurred, this.scratch);
    const first = !this.hasBackground;
    this.hasBackground = true;
    const dil = Math.max(0, Math.floor(s.dilationIterations));
    let count = accumulateDiffCount(this.blurred, this.avg, s.avgWeighting, s.fixedLvlThreshold, first, dil > 0 ? this.mask : undefined);
    if (dil > 0 && !first) count = dilateCount(this.mask, width, height, dil, this.tmp);
    return { count, resized };
  }
}
