import assert from 'node:assert/strict';
import { GreyDetector, gaussianBlur, gaussianKernelQ8, lumaFromRgb } from '../../../lib/motion/pipeline';
import { squareFrame } from '../../helpers/clips';

const W = 640;
const H = 480;

function run(frames: Uint8Array[], k: number, dilation = 0): number[] {
  const d = new GreyDetector({ avgWeighting: 0.5, fixedLvlThreshold: 5, gaussKsize: k, dilationIterations: dilation });
  return frames.map((f) => d.process(f, W, H).count);
}

/** The square moving 10 px to the right each frame (docs/camera-alarm.md §3.5). */
function movingSquare(): Uint8Array[] {
  return [0, 1, 2, 3, 4, 5].map((i) => squareFrame(W, H, 100, [[200 + 10 * i, 216]]));
}

describe('motion pipeline (typed-array loops)', () => {
  it('uses OpenCV 4.6 bit-exact Gaussian kernels', () => {
    assert.deepEqual(Array.from(gaussianKernelQ8(5)), [16, 64, 96, 64, 16]);
    assert.deepEqual(Array.from(gaussianKernelQ8(7)), [8, 28, 56, 72, 56, 28, 8]);
    // k = 13 as OpenCV 4.6 quantises it (checked against cv2.GaussianBlur output)
    assert.deepEqual(Array.from(gaussianKernelQ8(13)), [1, 5, 10, 19, 30, 41, 44, 41, 30, 19, 10, 5, 1]);
    for (const k of [3, 9, 11, 15, 21, 31]) assert.equal(gaussianKernelQ8(k).reduce((a, b) => a + b, 0), 256, `k=${k} sums to 1`);
    assert.throws(() => gaussianKernelQ8(4), /odd/);
  });

  it('blurs with reflect-101 borders and keeps a uniform image uniform', () => {
    const src = new Uint8Array(37 * 23).fill(77);
    const out = new Uint8Array(src.length);
    gaussianBlur(src, 37, 23, 13, out);
    assert.ok(out.every((v) => v === 77));
    // A single bright pixel spreads symmetrically and keeps its mass (within rounding).
    const dot = new Uint8Array(31 * 31);
    dot[15 * 31 + 15] = 255;
    gaussianBlur(dot, 31, 31, 5, out);
    assert.equal(out[15 * 31 + 14], out[15 * 31 + 16]);
    assert.equal(out[14 * 31 + 15], out[16 * 31 + 15]);
  });

  it('computes BT.601 luma like cvtColor (not sharp greyscale weights)', () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 100, 50]);
    const out = new Uint8Array(4);
    lumaFromRgb(rgb, 3, out);
    assert.deepEqual(Array.from(out), [76, 150, 29, 124]);
  });

  describe('docs/camera-alarm.md §3.5 reference counts (exact)', () => {
    it('global jump 100 → 112: 0, 307200, 0, 0', () => {
      assert.deepEqual(run([squareFrame(W, H, 100), squareFrame(W, H, 112), squareFrame(W, H, 112), squareFrame(W, H, 112)], 7), [0, 307200, 0, 0]);
    });
    it('100 → 110: a difference of exactly 5 is not > 5', () => {
      assert.deepEqual(run([squareFrame(W, H, 100), squareFrame(W, H, 110), squareFrame(W, H, 110)], 7), [0, 0, 0]);
    });
    it('a static square: all zero', () => {
      const f = squareFrame(W, H, 100, [[296, 216]]);
      assert.deepEqual(run([f, f, f, f, f], 7), [0, 0, 0, 0, 0]);
    });
    it('a square that appears and stays: the fading echo', () => {
      const f = squareFrame(W, H, 100, [[296, 216]]);
      assert.deepEqual(run([squareFrame(W, H, 100), f, f, f, f], 7), [0, 1916, 1760, 1600, 1440]);
    });
    it('a square moving 10 px per frame, k = 7 and k = 5', () => {
      assert.deepEqual(run(movingSquare(), 7), [0, 1192, 1956, 2684, 3256, 3288]);
      assert.deepEqual(run(movingSquare(), 5), [0, 1000, 1840, 2564, 3214, 3250]);
    });
    it('one dilation; N dilations are real iterations (the reference always did one)', () => {
      assert.deepEqual(run(movingSquare(), 7, 1), [0, 1432, 2232, 2996, 3598, 3632]);
      const three = run(movingSquare(), 7, 3);
      for (let i = 1; i < three.length; i++) assert.ok(three[i] > [0, 1432, 2232, 2996, 3598, 3632][i], 'three iterations grow the mask further');
    });
  });

  it('resets the background when the frame size changes', () => {
    const d = new GreyDetector({ avgWeighting: 0.5, fixedLvlThreshold: 5, gaussKsize: 5, dilationIterations: 0 });
    assert.deepEqual(d.process(new Uint8Array(64 * 48).fill(10), 64, 48), { count: 0, resized: false });
    const r = d.process(new Uint8Array(32 * 24).fill(200), 32, 24);
    assert.deepEqual(r, { count: 0, resized: true });
    assert.throws(() => d.process(new Uint8Array(10), 32, 24), /expected/);
  });
});
