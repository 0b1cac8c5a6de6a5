/**
 * `npm run bench:motion` (or `node dist/bench/motion.js`): the motion detector's cost per
 * frame, on the same generated frames in one run, beside same-run baselines:
 * - per-frame median and p90 ms at 640×480 and 1920×1080 for each engine (opencv, sharp);
 * - the JPEG-decode-only floors (OpenCV decode as the engine does it, OpenCV full colour
 *   decode, sharp raw decode);
 * - the decode + blur lower bound (decode as the engine does, resize, blur, nothing else);
 * - the same pipeline in Python/OpenCV (/usr/bin/python3 with Debian's python3-opencv):
 *   the reference app's steps (colour decode, resize, cvtColor, blur, accumulate, diff,
 *   threshold, count) and ours (reduced grey decode); skipped with a note when absent;
 * - ratios against the targets (opencv ≤ 0.5× Python and ≤ 1.5× its decode floor; sharp
 *   ≤ 10 ms at 640×480);
 * - RSS over 10,000 frames (opencv) and 2,000 (sharp): flat means within ±10%;
 * - the largest event-loop stall while detecting at 15 fps (perf_hooks
 *   monitorEventLoopDelay), beside the idle loop's.
 * The rows of one engine are timed round-robin on the same frames (see timeInterleaved), so a
 * slow spell of a shared machine does not land on one row only.
 * Bounded to a couple of minutes; loopback only (nothing leaves the process but the
 * Python child).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { generateClip } from '../lib/camera/testclips';
import { DEFAULT_MOTION_SETTINGS, MotionDetector, MotionSettings } from '../lib/motion/detector';
import { EngineSettings, MotionEngine, targetSize } from '../lib/motion/engine';
import { OpenCvEngine, loadOpenCv, reducedDecode, resizeInterpolation } from '../lib/motion/opencv';
import { SharpEngine } from '../lib/motion/sharp';
import { jpegSize } from '../lib/common/jpeg';

/** Fine texture so the JPEGs are as large as a real camera's (~48 KiB at 640×480, ~310 KiB at 1080p). */
const DETAIL = 12;

const SETTINGS: EngineSettings = {
  avgWeighting: DEFAULT_MOTION_SETTINGS.avgWeighting,
  fixedLvlThreshold: DEFAULT_MOTION_SETTINGS.fixedLvlThreshold,
  gaussKsize: DEFAULT_MOTION_SETTINGS.gaussKsize,
  dilationIterations: 0,
  resizeWidth: 640,
};

interface Stats {
  median: number;
  p90: number;
  n: number;
}

function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p90: at(0.9), n: s.length };
}

const f2 = (x: number): string => x.toFixed(2).padStart(7);

/**
 * Time several variants on the same frames, round-robin (frame i through every variant, then
 * frame i + 1): on a shared or throttled machine a slow spell then hits every row alike, so
 * the ratios between the rows hold even when the absolute figures drift.
 */
async function timeInterleaved(frames: Buffer[], n: number, fns: Record<string, (f: Buffer) => Promise<unknown> | unknown>, warm = 10): Promise<Record<string, Stats>> {
  const names = Object.keys(fns);
  for (let i = 0; i < warm; i++) for (const k of names) await fns[k](frames[i % frames.length]);
  const out: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (let i = 0; i < n; i++) {
    const f = frames[i % frames.length];
    for (const k of names) {
      const t = performance.now();
      await fns[k](f);
      out[k].push(performance.now() - t);
    }
  }
  return Object.fromEntries(names.map((k) => [k, stats(out[k])]));
}

const PY = `
import json, sys, time, glob
import numpy as np
import cv2
files = sorted(glob.glob(sys.argv[1] + '/*.jpg'))
n, k, width, reduced_flag = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
bufs = [np.fromfile(f, dtype=np.uint8) for f in files]
def run(ours):
    avg = None
    times = []
    for i in range(n + 10):
        buf = bufs[i % len(bufs)]
        t = time.perf_counter()
        if ours:
            g = cv2.imdecode(buf, reduced_flag)
        else:
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
            h, w = img.shape[:2]
            if w != width:
                img = cv2.resize(img, (width, int(round(h * width / w))), interpolation=cv2.INTER_LINEAR)
            g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        h, w = g.shape[:2]
        if w != width:
            g = cv2.resize(g, (width, int(round(h * width / w))), interpolation=cv2.INTER_LINEAR if 1 < w / width < 2 else cv2.INTER_AREA)
        b = cv2.GaussianBlur(g, (k, k), 0)
        f = b.astype(np.float32)
        if avg is None:
            avg = f.copy()
        else:
            cv2.accumulateWeighted(f, avg, 0.5)
            d = cv2.absdiff(avg, f)
            _, th = cv2.threshold(d, 5, 255, cv2.THRESH_BINARY)
            cv2.countNonZero(th)
        dt = time.perf_counter() - t
        if i >= 10:
            times.append(dt * 1000)
    return times
print(json.dumps({"version": cv2.__version__, "reference": run(False), "same": run(True)}))
`;

function python(dir: string, n: number, width: number, reducedFlag: number): { version: string; reference: Stats; same: Stats } | string {
  const py = '/usr/bin/python3';
  if (!fs.existsSync(py)) return 'skipped: /usr/bin/python3 not found';
  const probe = spawnSync(py, ['-c', 'import cv2'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'skipped: python3-opencv is not installed (apt-get install python3-opencv)';
  const script = path.join(dir, 'pipeline.py');
  fs.writeFileSync(script, PY);
  const out = execFileSync(py, [script, dir, String(n), String(SETTINGS.gaussKsize), String(width), String(reducedFlag)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const r = JSON.parse(out) as { version: string; reference: number[]; same: number[] };
  return { version: r.version, reference: stats(r.reference), same: stats(r.same) };
}

function rssMb(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}

async function rssRun(engine: MotionEngine, frames: Buffer[], n: number): Promise<{ start: number; end: number; max: number }> {
  let start = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    await engine.process(frames[i % frames.length]);
    if (i === Math.floor(n / 10)) start = rssMb();
    if (i % 250 === 0) max = Math.max(max, rssMb());
  }
  return { start, end: rssMb(), max: Math.max(max, rssMb()) };
}

/** Largest event-loop delay while frames arrive at 15 fps for `seconds` and each is detected. */
async function loopStall(makeDetector: (() => MotionDetector) | undefined, frames: Buffer[], seconds: number): Promise<{ maxMs: number; p999Ms: number; processed: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const d = makeDetector?.();
  d?.start();
  // let the engine start (worker boot, first frame) before measuring
  if (d) {
    await new Promise<void>((r) => d.push(frames[0], 0, () => r()));
    await d.whenIdle();
  }
  h.enable();
  let i = 1;
  const t0 = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (Date.now() - t0 >= seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      d?.push(frames[i % frames.length], t0 + (i * 1000) / 15);
      i++;
    }, 1000 / 15);
  });
  await d?.whenIdle();
  h.disable();
  const processed = d?.stats.processed ?? 0;
  await d?.close();
  // the histogram records the interval between 1 ms samples: subtract the 1 ms itself
  return { maxMs: h.max / 1e6 - 1, p999Ms: h.percentile(99.9) / 1e6 - 1, processed };
}

/** Three runs: the median of their largest stalls (one OS hiccup on a shared box is not the detector), the worst, and p99.9. */
async function loopStall3(makeDetector: (() => MotionDetector) | undefined, frames: Buffer[]): Promise<string> {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await loopStall(makeDetector, frames, 2));
  const maxes = runs.map((r) => r.maxMs).sort((a, b) => a - b);
  const p999 = Math.max(...runs.map((r) => r.p999Ms));
  const frames3 = runs.reduce((a, r) => a + r.processed, 0);
  return `${String(frames3).padStart(4)} frames: largest stall ${maxes[1].toFixed(2)} ms (median of 3 runs; worst ${maxes[2].toFixed(2)}), p99.9 ${p999.toFixed(2)} ms`;
}

export async function run(): Promise<void> {
  const started = Date.now();
  const { cv, reason } = loadOpenCv();
  console.log(`motion bench: Node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? '?'}), sharp ${sharp.versions.sharp}/libvips ${sharp.versions.vips}, ${cv ? `OpenCV ${cv.version.major}.${cv.version.minor}.${cv.version.revision} via @u4/opencv4nodejs` : `no OpenCV (${reason})`}`);
  console.log(`settings: blur k=${SETTINGS.gaussKsize}, α=${SETTINGS.avgWeighting}, threshold ${SETTINGS.fixedLvlThreshold}, resize to ${SETTINGS.resizeWidth} wide; frames: the generated "moving" clip with camera-like fine detail (detail ${DETAIL})`);
  const sizes: Array<[number, number, number]> = [
    [640, 480, 300],
    [1920, 1080, 120],
  ];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-motion-'));
  const results: Record<string, Record<string, Stats>> = {};
  try {
    for (const [w, h, n] of sizes) {
      const label = `${w}×${h}`;
      const frames = await generateClip('moving', { width: w, height: h, frames: 30, detail: DETAIL });
      const avgKb = frames.reduce((a, f) => a + f.length, 0) / frames.length / 1024;
      console.log(`\n${label}: ${frames.length} distinct JPEG frames, ${avgKb.toFixed(0)} KiB each on average; ${n} timed frames per row (ms per frame)`);
      console.log(`  ${'what'.padEnd(58)} ${'median'.padStart(7)} ${'p90'.padStart(7)}`);
      const row = (what: string, s: Stats): void => {
        (results[label] ??= {})[what] = s;
        console.log(`  ${what.padEnd(58)} ${f2(s.median)} ${f2(s.p90)}`);
      };
      const dir = path.join(tmp, label);
      fs.mkdirSync(dir);
      frames.forEach((f, i) => fs.writeFileSync(path.join(dir, `f${String(i).padStart(3, '0')}.jpg`), f));
      const size = jpegSize(frames[0])!;
      const tgt = targetSize(size.width, size.height, SETTINGS.resizeWidth);
      if (cv) {
        const { flag, factor } = reducedDecode(cv, size.width, SETTINGS.resizeWidth);
        const ksize = new cv.Size(SETTINGS.gaussKsize, SETTINGS.gaussKsize);
        const e = new OpenCvEngine(cv, SETTINGS);
        const rows = await timeInterleaved(frames, n, {
          [`floor: OpenCV decode as the engine does (grey, 1/${factor})`]: async (f) => (await cv.imdecodeAsync(f, flag)).release(),
          'floor: OpenCV full colour decode (sync)': (f) => cv.imdecode(f).release(),
          'bound: decode as the engine does + the blur, nothing else': async (f) => {
            const g = await cv.imdecodeAsync(f, flag);
            const r = g.cols === tgt.width ? g : g.resize(tgt.height, tgt.width, 0, 0, resizeInterpolation(cv, g.cols, tgt.width));
            r.gaussianBlur(ksize, 0).release();
            if (r !== g) r.release();
            g.release();
          },
          'opencv engine (whole pipeline)': (f) => e.process(f),
        });
        await e.close();
        for (const [what, st] of Object.entries(rows)) row(what, st);
      }
      const se = new SharpEngine(SETTINGS);
      const sharpRows = await timeInterleaved(frames, n, {
        [`floor: sharp decode to raw${tgt.width !== size.width ? ` + resize to ${tgt.width}` : ''}`]: (f) => {
          let img = sharp(f);
          if (tgt.width !== size.width) img = img.resize(tgt.width, tgt.height, { fit: 'fill', kernel: 'linear' });
          return img.raw().toBuffer();
        },
        'sharp engine (whole pipeline, worker thread)': (f) => se.process(f),
      });
      await se.close();
      for (const [what, st] of Object.entries(sharpRows)) row(what, st);
      const py = python(dir, n, SETTINGS.resizeWidth, cv ? reducedDecode(cv, size.width, SETTINGS.resizeWidth).flag : 0);
      if (typeof py === 'string') console.log(`  Python/OpenCV: ${py}`);
      else {
        row(`Python ${py.version}: reference steps (colour decode, resize, cvtColor…)`, py.reference);
        row(`Python ${py.version}: our steps (reduced grey decode, …)`, py.same);
      }
      const r = results[label];
      const oc = r['opencv engine (whole pipeline)'];
      const floorKey = Object.keys(r).find((k) => k.startsWith('floor: OpenCV decode as'));
      const pyRef = Object.keys(r).find((k) => k.includes('reference steps'));
      const pySame = Object.keys(r).find((k) => k.includes('our steps'));
      const sh = r['sharp engine (whole pipeline, worker thread)'];
      console.log('  ratios (medians):');
      if (oc && pyRef) console.log(`    opencv engine / Python reference pipeline = ${(oc.median / r[pyRef].median).toFixed(2)}× (target ≤ 0.5×)`);
      if (oc && pySame) console.log(`    opencv engine / Python with our steps     = ${(oc.median / r[pySame].median).toFixed(2)}×`);
      if (oc && floorKey) console.log(`    opencv engine / its decode floor          = ${(oc.median / r[floorKey].median).toFixed(2)}× (target ≤ 1.5×)`);
      const bound = r['bound: decode as the engine does + the blur, nothing else'];
      if (bound && pyRef) console.log(`    decode + blur alone / Python reference    = ${(bound.median / r[pyRef].median).toFixed(2)}× (the lowest any exact engine can reach on this machine)`);
      if (sh && oc) console.log(`    sharp engine / opencv engine              = ${(sh.median / oc.median).toFixed(2)}×`);
      if (sh && w === 640) console.log(`    sharp engine median ${sh.median.toFixed(2)} ms (target ≤ 10 ms at 640×480)`);
    }

    // ---- RSS over many frames
    console.log('\nRSS (MB) over many frames, 640×480 (first tenth skipped as warm-up):');
    const frames640 = await generateClip('moving', { frames: 30, detail: DETAIL });
    const frames1080 = await generateClip('moving', { width: 1920, height: 1080, frames: 10, detail: DETAIL });
    if (cv) {
      const e = new OpenCvEngine(cv, SETTINGS);
      const t = Date.now();
      const r = await rssRun(e, frames640, 10000);
      await e.close();
      console.log(`  opencv, 10,000 frames: ${r.start.toFixed(0)} → ${r.end.toFixed(0)} MB (max ${r.max.toFixed(0)}), change ${(((r.end - r.start) / r.start) * 100).toFixed(1)}% (target within ±10%), ${((Date.now() - t) / 1000).toFixed(1)} s`);
      const e2 = new OpenCvEngine(cv, SETTINGS);
      const r2 = await rssRun(e2, frames1080, 2000);
      await e2.close();
      console.log(`  opencv, 2,000 frames at 1920×1080: ${r2.start.toFixed(0)} → ${r2.end.toFixed(0)} MB (max ${r2.max.toFixed(0)}), change ${(((r2.end - r2.start) / r2.start) * 100).toFixed(1)}%`);
    }
    {
      const e = new SharpEngine(SETTINGS);
      const t = Date.now();
      const r = await rssRun(e, frames640, 2000);
      await e.close();
      console.log(`  sharp, 2,000 frames: ${r.start.toFixed(0)} → ${r.end.toFixed(0)} MB (max ${r.max.toFixed(0)}), change ${(((r.end - r.start) / r.start) * 100).toFixed(1)}%, ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }

    // ---- event-loop stall while detecting at 15 fps
    console.log('\nEvent loop while detecting every frame of a 15 fps stream (3 runs of 2 s; monitorEventLoopDelay, 1 ms resolution):');
    console.log(`  ${'baseline (idle loop, same timers)'.padEnd(34)} ${await loopStall3(undefined, frames640)}`);
    const detSettings = (engine: 'opencv' | 'sharp'): MotionSettings => ({ ...DEFAULT_MOTION_SETTINGS, fps: 15, engine });
    for (const engine of cv ? (['opencv', 'sharp'] as const) : (['sharp'] as const)) {
      for (const [label, frames] of [
        ['640×480', frames640],
        ['1920×1080', frames1080],
      ] as const) {
        console.log(`  ${`${engine} ${label}`.padEnd(34)} ${await loopStall3(() => new MotionDetector(detSettings(engine)), frames)} (target ≤ 5 ms)`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\nmotion bench done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (require.main === module) {
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
