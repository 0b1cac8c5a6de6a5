import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import type { ClipKind } from '../../../lib/camera/testclips';
import { FakeClock } from '../../../lib/common/clock';
import { EngineResult, EngineSettings, FrameError, MotionEngine } from '../../../lib/motion/engine';
import { createEngine } from '../../../lib/motion/engines';
import { OpenCvEngine, loadOpenCv } from '../../../lib/motion/opencv';
import { accumulateDiffCount } from '../../../lib/motion/pipeline';
import { SharpEngine } from '../../../lib/motion/sharp';
import { clip, countsOf, greyJpeg, squareFrame } from '../../helpers/clips';
import { stillPending } from '../../helpers/wait';
import { skipBecause } from '../../helpers/skip';

const W = 640;
const H = 480;
const base: EngineSettings = { avgWeighting: 0.5, fixedLvlThreshold: 5, gaussKsize: 7, dilationIterations: 0, resizeWidth: 640 };

type Factory = (s: EngineSettings) => MotionEngine;
const opencv = loadOpenCv();
const engines: Array<[string, Factory | undefined]> = [
  ['opencv', opencv.cv ? (s) => new OpenCvEngine(opencv.cv!, s) : undefined],
  ['sharp', (s) => new SharpEngine(s)],
];

function counts(factory: Factory, frames: Buffer[], settings: Partial<EngineSettings> = {}): Promise<number[]> {
  return countsOf(factory({ ...base, ...settings }), frames);
}

/** Within 2% (or 40 px): JPEG quality 100 is not lossless at the square's edges. */
function near(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= Math.max(40, expected[i] * 0.02), `${what}: frame ${i} gave ${a}, reference ${expected[i]} (all: ${actual.join(',')})`));
}

describe('motion engines', function () {
  this.timeout(60000);

  for (const [name, factory] of engines) {
    describe(`${name} engine`, () => {
      before(function () {
        if (!factory) skipBecause(this, `OpenCV engine: ${opencv.reason}`);
      });

      it('reproduces docs/camera-alarm.md §3.5 on JPEG frames (within its small tolerance)', async () => {
        const j = (g: Uint8Array): Promise<Buffer> => greyJpeg(g, W, H);
        const sq = await j(squareFrame(W, H, 100, [[296, 216]]));
        const bg = await j(squareFrame(W, H, 100));
        near(await counts(factory!, [bg, await j(squareFrame(W, H, 112)), await j(squareFrame(W, H, 112)), await j(squareFrame(W, H, 112))]), [0, 307200, 0, 0], 'jump to 112');
        near(await counts(factory!, [bg, await j(squareFrame(W, H, 110)), await j(squareFrame(W, H, 110))]), [0, 0, 0], 'jump to 110');
        near(await counts(factory!, [sq, sq, sq, sq, sq]), [0, 0, 0, 0, 0], 'static square');
        near(await counts(factory!, [bg, sq, sq, sq, sq]), [0, 1916, 1760, 1600, 1440], 'square appears');
        const moving = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => j(squareFrame(W, H, 100, [[200 + 10 * i, 216]]))));
        near(await counts(factory!, moving), [0, 1192, 1956, 2684, 3256, 3288], 'moving k=7');
        near(await counts(factory!, moving, { gaussKsize: 5 }), [0, 1000, 1840, 2564, 3214, 3250], 'moving k=5');
        near(await counts(factory!, moving, { dilationIterations: 1 }), [0, 1432, 2232, 2996, 3598, 3632], 'moving k=7 dilated once');
      });

      it('reports a corrupt or truncated JPEG as a FrameError and carries on', async () => {
        const frames = await clip('moving');
        const e = factory!({ ...base, gaussKsize: 13 });
        try {
          assert.equal((await e.process(frames[0])).count, 0);
          await assert.rejects(e.process(frames[1].subarray(0, frames[1].length >> 1)), FrameError);
          const garbage = Buffer.concat([frames[2].subarray(0, 700), Buffer.alloc(4000, 0x55)]);
          await assert.rejects(e.process(garbage), FrameError);
          await assert.rejects(e.process(Buffer.from('hello')), FrameError);
          const r = await e.process(frames[8]);
          assert.ok(r.count > 0, 'the next good frame is processed against the background');
        } finally {
          await e.close();
        }
      });

      it('resizes to resizeWidth keeping the aspect ratio, and resets on a size change', async () => {
        const big = await clip('still', { width: 1280, height: 720, frames: 2 });
        const small = await clip('still', { frames: 1 });
        const e = factory!({ ...base });
        try {
          const a = await e.process(big[0]);
          assert.deepEqual([a.width, a.height, a.resized], [640, 360, false]);
          const b = await e.process(small[0]);
          assert.deepEqual([b.width, b.height, b.resized, b.count], [640, 480, true, 0]);
        } finally {
          await e.close();
        }
      });
    });
  }

  it('opencv: counts exactly the pixels with |A − F| > t, as the float reference does on the same blurred frames', async function () {
    if (!opencv.cv) skipBecause(this, `OpenCV engine: ${opencv.reason}`);
    const cv = opencv.cv!;
    const frames = [...(await clip('moving', { frames: 12 })), ...(await clip('still', { frames: 8 }))];
    for (const [alpha, t] of [
      [0.5, 5],
      [0.5, 0],
      [0.1, 2.5],
      [0.05, 20],
    ]) {
      const e = new OpenCvEngine(cv, { ...base, gaussKsize: 13, avgWeighting: alpha, fixedLvlThreshold: t });
      const avg = new Float32Array(W * H);
      try {
        for (let i = 0; i < frames.length; i++) {
          const grey = cv.imdecode(frames[i], cv.IMREAD_GRAYSCALE);
          const blurred = grey.gaussianBlur(new cv.Size(13, 13), 0);
          const expected = accumulateDiffCount(new Uint8Array(blurred.getData()), avg, alpha, t, i === 0);
          grey.release();
          blurred.release();
          const { count } = await e.process(frames[i]);
          // equal but for float ties: A computed in float by OpenCV, in double then rounded here
          assert.ok(Math.abs(count - expected) <= 2, `α ${alpha}, t ${t}, frame ${i}: engine ${count}, reference ${expected}`);
        }
      } finally {
        await e.close();
      }
    }
  });

  it('the two engines agree within 1% on the clips', async function () {
    if (!opencv.cv) skipBecause(this, `OpenCV engine: ${opencv.reason}`);
    for (const kind of ['moving', 'still', 'lighting'] as const) {
      const frames = (await clip(kind)).filter((_, i) => i % 4 === 0);
      const a = await counts(engines[0][1]!, frames, { gaussKsize: 13 });
      const b = await counts(engines[1][1]!, frames, { gaussKsize: 13 });
      const sa = a.reduce((x, y) => x + y, 0);
      const sb = b.reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(sa - sb) <= Math.max(10, 0.01 * Math.max(sa, sb)), `${kind}: opencv ${a.join(',')} vs sharp ${b.join(',')}`);
      if (kind === 'moving') a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= Math.max(10, 0.01 * x), `moving frame ${i}: ${x} vs ${b[i]}`));
    }
  });

  for (const [w, h, how] of [
    [1280, 720, 'reduced decode'],
    [1920, 1080, 'reduced decode + bilinear 960 → 640'],
  ] as const) {
    it(`the two engines agree within 1% when resizing (${w}×${h} → 640×360; ${how} vs sharp resize)`, async function () {
      if (!opencv.cv) skipBecause(this, `OpenCV engine: ${opencv.reason}`);
      const frames = (await clip('moving', { width: w, height: h, frames: 40 })).filter((_, i) => i % 4 === 0);
      const a = await counts(engines[0][1]!, frames, { gaussKsize: 13 });
      const b = await counts(engines[1][1]!, frames, { gaussKsize: 13 });
      a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= Math.max(10, 0.01 * x), `frame ${i}: opencv ${a.join(',')} vs sharp ${b.join(',')}`));
      assert.ok(a.slice(1).every((x) => x > 1000), 'the object is seen');
    });
  }

  describe('sharp engine worker restarts', () => {
    /** The engine's worker, to kill it as a crash would (the field is private on purpose). */
    const workerOf = (e: SharpEngine): Worker | undefined => (e as unknown as { worker?: Worker }).worker;
    const exited = (w: Worker): Promise<void> => new Promise((r) => w.once('exit', () => r()));

    /** A sharp engine on a FakeClock (its back-off waits), and the frames of a test clip. */
    async function onFakeClock(kind: ClipKind, frames: number): Promise<{ clock: FakeClock; frames: Buffer[]; e: SharpEngine }> {
      const clock = new FakeClock(0);
      return { clock, frames: await clip(kind, { frames }), e: new SharpEngine({ ...base }, { clock }) };
    }

    it('a worker that dies fails the frame in flight, and the next frame waits the back-off and gets a fresh worker', async () => {
      const { clock, frames, e } = await onFakeClock('moving', 4);
      try {
        assert.equal((await e.process(frames[0])).count, 0);
        assert.ok((await e.process(frames[1])).count > 0);
        const w = workerOf(e)!;
        const inFlight = e.process(frames[2]);
        await w.terminate();
        await assert.rejects(inFlight, (err: Error) => !(err instanceof FrameError) && /worker exited with code 1; a new worker starts in 1 s/.test(err.message));
        // the next frame waits for the back-off on the injected clock
        const next = e.process(frames[3]);
        assert.equal(await stillPending(next), true);
        assert.equal(e.workersStarted, 1);
        clock.advance(1000);
        const r = await next;
        assert.equal(r.count, 0, 'the new worker starts without a background model');
        assert.equal(e.workersStarted, 2);
        assert.ok((await e.process(frames[0])).count > 0);
      } finally {
        await e.close();
      }
    });

    it('the back-off doubles while the worker keeps dying, and is 1 s again after a good frame', async () => {
      const { clock, frames, e } = await onFakeClock('still', 1);
      /** Kill the current worker with a frame in flight; the frame's error message. */
      const killDuringFrame = async (): Promise<string> => {
        const w = workerOf(e)!;
        const p = e.process(frames[0]).then(
          () => 'answered',
          (err: Error) => err.message,
        );
        await w.terminate();
        return p;
      };
      /** Start the next frame, move the clock past the back-off, let the new worker start. */
      const nextFrameAfter = async (ms: number): Promise<{ result: Promise<EngineResult> }> => {
        const result = e.process(frames[0]);
        clock.advance(ms);
        await new Promise((r) => setImmediate(r));
        return { result };
      };
      try {
        assert.match(await killDuringFrame(), /starts in 1 s/);
        await (await nextFrameAfter(1000)).result; // a good frame: the back-off starts over
        assert.match(await killDuringFrame(), /starts in 1 s/);
        const dying = await nextFrameAfter(1000); // the new worker dies before answering
        const w = workerOf(e)!;
        await w.terminate();
        await assert.rejects(dying.result, /starts in 2 s/);
        assert.equal(e.workersStarted, 3);
      } finally {
        await e.close();
      }
    });

    it('close during the back-off wait rejects the waiting frame and leaves no worker', async () => {
      const { frames, e } = await onFakeClock('still', 1);
      const w = workerOf(e)!;
      const gone = exited(w);
      await w.terminate();
      await gone;
      const waiting = e.process(frames[0]);
      await e.close();
      await assert.rejects(waiting, /closed/);
      assert.equal(workerOf(e), undefined);
      assert.equal(e.workersStarted, 1);
    });
  });

  it('engine auto picks opencv when it loads, else sharp with the reason', async () => {
    const sel = createEngine('auto', { ...base });
    try {
      if (opencv.cv) {
        assert.equal(sel.engine.name, 'opencv');
        assert.match(sel.description, /OpenCV 4\./);
      } else {
        assert.equal(sel.engine.name, 'sharp');
        assert.ok(sel.fallbackReason);
      }
    } finally {
      await sel.engine.close();
    }
    const s = createEngine('sharp', { ...base });
    assert.equal(s.engine.name, 'sharp');
    await s.engine.close();
  });
});
