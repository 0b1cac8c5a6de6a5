/**
 * The engines' worker-process pool (OpenCV; the sharp pool is the same code, see pinned-counts): engines spread over the workers, counts the same
 * as in-process, a dead worker fails the frame in flight and is replaced after the back-off
 * (FakeClock), and the workers are gone once the last engine closes.
 */
import assert from 'node:assert/strict';
import { FakeClock } from '../../../lib/common/clock';
import { EngineSettings, FrameError } from '../../../lib/motion/engine';
import { OpenCvEngine, loadOpenCv } from '../../../lib/motion/opencv';
import { EnginePool, PooledEngine } from '../../../lib/motion/pool';
import { clip } from '../../helpers/clips';
import { stillPending } from '../../helpers/wait';

const base: EngineSettings = { avgWeighting: 0.5, fixedLvlThreshold: 5, gaussKsize: 13, dilationIterations: 0, resizeWidth: 640 };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('engine worker-process pool', function () {
  this.timeout(60000);
  const opencv = loadOpenCv();
  before(function () {
    if (!opencv.cv) {
      console.log(`      (skipped: ${opencv.reason})`);
      this.skip();
    }
  });

  it('spreads engines over the workers, counts as in-process, and stops the workers with the last engine', async () => {
    const frames = await clip('moving', { frames: 6 });
    const pool = new EnginePool('opencv', 2);
    const engines = [0, 1, 2].map(() => new PooledEngine(pool, base));
    const local = new OpenCvEngine(opencv.cv!, base);
    try {
      const expected: number[] = [];
      for (const f of frames) expected.push((await local.process(f)).count);
      const got = await Promise.all(engines.map(async (e) => Promise.all(frames.map((f) => e.process(f)))));
      for (const g of got) assert.deepEqual(g.map((r) => r.count), expected);
      assert.equal(pool.pids.length, 2);
      await assert.rejects(engines[0].process(Buffer.from('not a jpeg')), FrameError);
    } finally {
      await local.close();
      const pids = pool.pids;
      for (const e of engines) await e.close();
      assert.deepEqual(pool.pids, []);
      assert.ok(pids.every((p) => !alive(p)), 'worker processes gone');
    }
  });

  it('a worker that dies fails the frame in flight; the next frame waits the back-off and gets a fresh worker', async () => {
    const frames = await clip('moving', { frames: 4 });
    const clock = new FakeClock(0);
    const pool = new EnginePool('opencv', 1, { clock });
    const e = new PooledEngine(pool, base);
    try {
      assert.equal((await e.process(frames[0])).count, 0);
      assert.ok((await e.process(frames[1])).count > 0);
      const inFlight = e.process(frames[2]);
      process.kill(pool.pids[0], 'SIGKILL');
      await assert.rejects(inFlight, (err: Error) => !(err instanceof FrameError) && /worker exited \(SIGKILL\); a new worker starts in 1 s/.test(err.message));
      const next = e.process(frames[3]);
      assert.equal(await stillPending(next), true);
      assert.equal(pool.started, 1);
      clock.advance(1000);
      assert.equal((await next).count, 0, 'the fresh worker starts without a background model');
      assert.equal(pool.started, 2);
    } finally {
      await e.close();
    }
    assert.deepEqual(pool.pids, []);
  });
});
