import assert from 'node:assert/strict';
import { FakeClock } from '../../../lib/common/clock';
import { DEFAULT_MOTION_SETTINGS, FrameOutcome, MotionDetector, MotionSettings, SecondEvent, validateMotionSettings } from '../../../lib/motion/detector';
import { EngineResult, EngineSettings, FrameError, MotionEngine } from '../../../lib/motion/engine';
import { DetectorMetrics } from '../../../lib/system/types';
import { clip } from '../../helpers/clips';

/** A scripted engine: each frame's first byte after SOI picks nothing; counts come from a list. */
class FakeEngine implements MotionEngine {
  readonly name = 'sharp' as const;
  processed: Buffer[] = [];
  resets = 0;
  configured: EngineSettings[] = [];
  gate?: Promise<void>;
  constructor(private readonly counts: number[]) {}
  configure(s: EngineSettings): void {
    this.configured.push(s);
  }
  reset(): void {
    this.resets++;
  }
  async process(jpeg: Buffer): Promise<EngineResult> {
    if (this.gate) await this.gate;
    this.processed.push(jpeg);
    if (jpeg.includes('BAD')) throw new FrameError('corrupt');
    return { count: this.counts[this.processed.length - 1] ?? 0, width: 640, height: 480, resized: false };
  }
  async close(): Promise<void> {}
}

const jpeg = (tag: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from(tag)]);

function detector(counts: number[], settings: Partial<MotionSettings> = {}, clock = new FakeClock(0)) {
  const engine = new FakeEngine(counts);
  const d = new MotionDetector({ ...DEFAULT_MOTION_SETTINGS, ...settings }, { clock, engineFactory: () => ({ engine, description: 'fake' }) });
  const seconds: SecondEvent[] = [];
  const metrics: DetectorMetrics[] = [];
  d.on('second', (s: SecondEvent) => seconds.push(s));
  d.on('metrics', (m: DetectorMetrics) => metrics.push(m));
  d.start();
  return { d, engine, seconds, metrics, clock };
}

function push(d: MotionDetector, frame: Buffer, t: number): Promise<FrameOutcome> {
  return new Promise((resolve) => d.push(frame, t, resolve));
}

describe('motion detector', () => {
  it('samples fps frames a second by frame time and makes detection seconds', async () => {
    const { d, seconds, engine } = detector([0, 50, 0, 0, 20000, 3], { fps: 2, pixelThresholdLo: 15, pixelThresholdHi: 9000 });
    const outcomes: string[] = [];
    // 15 fps for 3 s
    for (let i = 0; i < 45; i++) outcomes.push((await push(d, jpeg(`f${i}`), (i * 1000) / 15)).kind);
    assert.equal(engine.processed.length, 6, 'two frames a second');
    assert.equal(outcomes.filter((o) => o === 'dropped').length, 39);
    assert.deepEqual(
      seconds.map((s) => [s.motion, s.counts]),
      [
        [true, [0, 50]],
        [false, [0, 0]],
        [false, [20000, 3]],
      ],
    );
    await d.close();
  });

  it('latest frame wins while the engine is busy (never a queue)', async () => {
    const { d, engine } = detector([1, 2, 3], { fps: 100 });
    let release!: () => void;
    engine.gate = new Promise((r) => (release = r));
    const outcomes: Array<Promise<FrameOutcome>> = [];
    for (let i = 0; i < 5; i++) outcomes.push(push(d, jpeg(`f${i}`), i * 100));
    release();
    engine.gate = undefined;
    const kinds = (await Promise.all(outcomes)).map((o) => o.kind);
    assert.deepEqual(kinds, ['processed', 'replaced', 'replaced', 'replaced', 'processed']);
    assert.deepEqual(
      engine.processed.map((b) => b.subarray(3).toString()),
      ['f0', 'f4'],
    );
    await d.close();
  });

  it('reports corrupt frames and carries on; rejects non-JPEG payloads', async () => {
    const { d, engine } = detector([7, 8], { fps: 100 });
    const errors: Error[] = [];
    d.on('frameError', (e: Error) => errors.push(e));
    assert.equal((await push(d, jpeg('BAD'), 0)).kind, 'corrupt');
    assert.deepEqual(await push(d, jpeg('ok'), 100), { kind: 'processed', count: 8 });
    assert.equal(errors.length, 1);
    assert.equal(d.stats.corrupt, 1);
    assert.throws(() => d.push(Buffer.from('hello'), 0), /not a JPEG/);
    assert.throws(() => d.push('x' as unknown as Buffer, 0), /Buffer/);
    assert.equal(engine.processed.length, 2);
    await d.close();
  });

  it('publishes metrics about once a second on the clock, only while frames are processed', async () => {
    const { d, metrics, clock } = detector([1, 2, 3], { fps: 100 });
    await push(d, jpeg('a'), 0);
    await push(d, jpeg('b'), 100);
    clock.advance(1000);
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0].frames, 2);
    assert.equal(metrics[0].engine, 'sharp');
    assert.ok(metrics[0].loopMinS <= metrics[0].loopAvgS && metrics[0].loopAvgS <= metrics[0].loopMaxS);
    clock.advance(3000);
    assert.equal(metrics.length, 1, 'no frames, no metrics');
    await d.close();
    assert.equal(clock.pending, 0, 'close clears the metrics timer');
  });

  it('applies settings in place; only pixel settings reset the background', async () => {
    const { d, engine } = detector([], { fps: 2 });
    d.configure({ ...DEFAULT_MOTION_SETTINGS, fps: 3, pixelThresholdHi: 5000 });
    assert.equal(engine.configured.length, 0);
    d.configure({ ...DEFAULT_MOTION_SETTINGS, fps: 3, pixelThresholdHi: 5000, gaussKsize: 5 });
    assert.equal(engine.configured.length, 1);
    d.reset('off→on');
    assert.equal(engine.resets, 1);
    d.stop();
    assert.equal((await push(d, jpeg('x'), 0)).kind, 'stopped');
    await d.close();
  });

  it('validates settings like the reference (fps > 0, odd ksize)', () => {
    assert.deepEqual(validateMotionSettings(DEFAULT_MOTION_SETTINGS), []);
    const errs = validateMotionSettings({ ...DEFAULT_MOTION_SETTINGS, fps: 0, gaussKsize: 4 });
    assert.deepEqual(errs, [
      ['fps', 'The value must be greater than zero'],
      ['gaussKsize', 'The guassian ksize option must be odd'],
    ]);
  });

  describe('on the test clips (real engine: auto)', function () {
    this.timeout(60000);
    async function verdicts(kind: 'moving' | 'still' | 'lighting' | 'black'): Promise<{ motion: boolean[]; engine: string }> {
      const frames = await clip(kind);
      const d = new MotionDetector({ ...DEFAULT_MOTION_SETTINGS, fps: 2 });
      const motion: boolean[] = [];
      d.on('second', (s: SecondEvent) => motion.push(s.motion));
      const sel = d.start();
      // Two passes through the clip (it loops in the camera).
      for (let i = 0; i < frames.length * 2; i++) await push(d, frames[i % frames.length], (i * 1000) / 15);
      await d.close();
      return { motion, engine: sel.engine.name };
    }
    it('the moving object makes motion seconds', async () => {
      const r = await verdicts('moving');
      assert.ok(r.motion.length >= 7 && r.motion.filter(Boolean).length >= r.motion.length - 1, `${r.engine}: ${r.motion}`);
    });
    it('the still scene with sensor noise makes none', async () => {
      assert.ok((await verdicts('still')).motion.every((m) => !m));
    });
    it('the lighting jump makes none (its counts are above hi)', async () => {
      assert.ok((await verdicts('lighting')).motion.every((m) => !m));
    });
    it('a black (camera-off) scene makes none', async () => {
      assert.ok((await verdicts('black')).motion.every((m) => !m));
    });
  });
});
