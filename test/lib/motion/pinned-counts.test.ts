/**
 * Detection results pinned: the exact changed-pixel count of every frame of a realistic
 * generated clip (640×480 with fine texture, ~48 KiB JPEGs; slow motion, then a lighting
 * jump) and of a 1280×720 clip, for each engine, with the default settings and with two
 * dilations. A change of speed (async steps, pooling, fewer copies) must leave every
 * number as it is. The clips are deterministic for the locked sharp version; if sharp is
 * upgraded and its JPEG encoder changes, re-record these arrays from the engine *before*
 * any engine change.
 */
import assert from 'node:assert/strict';
import { generateClip } from '../../../lib/camera/testclips';
import { DEFAULT_MOTION_SETTINGS } from '../../../lib/motion/detector';
import { EngineSettings, MotionEngine } from '../../../lib/motion/engine';
import { OpenCvEngine, loadOpenCv } from '../../../lib/motion/opencv';
import { EnginePool, PooledEngine } from '../../../lib/motion/pool';
import { SharpEngine } from '../../../lib/motion/sharp';
import { countsOf } from '../../helpers/clips';
import { skipBecause } from '../../helpers/skip';

const PINNED: Record<string, Record<string, number[]>> = {
  opencv: {
    vga: [0, 808, 1117, 1416, 1544, 1591, 1573, 1609, 1588, 1596, 3071, 2689, 2193, 307200, 307195, 302277],
    vgaDilate2: [0, 1328, 1670, 1993, 2153, 2194, 2174, 2211, 2191, 2198, 3548, 3152, 2630, 307200, 307200, 307134],
    hd: [0, 862, 1172, 1459, 1602, 1674],
  },
  sharp: {
    vga: [0, 808, 1117, 1416, 1544, 1591, 1573, 1609, 1588, 1596, 3071, 2689, 2193, 307200, 307200, 307200],
    vgaDilate2: [0, 1328, 1670, 1993, 2153, 2194, 2174, 2211, 2191, 2198, 3548, 3152, 2630, 307200, 307200, 307200],
    hd: [0, 870, 1183, 1463, 1613, 1676],
  },
};


describe('motion engines: pinned counts on realistic frames', function () {
  this.timeout(120000);
  const opencv = loadOpenCv();
  let vga: Buffer[];
  let hd: Buffer[];
  before(async () => {
    vga = [...(await generateClip('moving', { width: 640, height: 480, frames: 10, detail: 12 })), ...(await generateClip('lighting', { width: 640, height: 480, frames: 6, detail: 12 }))];
    hd = await generateClip('moving', { width: 1280, height: 720, frames: 6, detail: 12 });
  });

  const pools = { opencv: new EnginePool('opencv', 1), sharp: new EnginePool('sharp', 1) };
  const make: Record<string, ((s: EngineSettings) => MotionEngine) | undefined> = {
    opencv: opencv.cv ? (s) => new OpenCvEngine(opencv.cv!, s) : undefined,
    'opencv (worker pool)': opencv.cv ? (s) => new PooledEngine(pools.opencv, s) : undefined,
    sharp: (s) => new SharpEngine(s),
    'sharp (worker pool)': (s) => new PooledEngine(pools.sharp, s),
  };
  for (const name of ['opencv', 'opencv (worker pool)', 'sharp', 'sharp (worker pool)']) {
    it(`${name}: the same count on every frame`, async function () {
      const factory = make[name];
      if (!factory) skipBecause(this, `OpenCV engine: ${opencv.reason}`);
      const s: EngineSettings = { ...DEFAULT_MOTION_SETTINGS };
      const pinned = PINNED[name.split(' ')[0]];
      assert.deepEqual(await countsOf(factory!(s), vga), pinned.vga, '640×480, default settings');
      assert.deepEqual(await countsOf(factory!({ ...s, dilationIterations: 2 }), vga), pinned.vgaDilate2, '640×480, two dilations');
      assert.deepEqual(await countsOf(factory!(s), hd), pinned.hd, '1280×720 → 640 wide');
    });
  }
});
