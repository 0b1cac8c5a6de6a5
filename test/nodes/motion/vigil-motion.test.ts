/**
 * vigil-motion in Node-RED on the generated clips: the moving object yields motion seconds,
 * the still scene none, the lighting jump none (its counts are above hi). Frames are fed at
 * 15 fps by their frame timestamps, each after the previous one was finished (a Complete
 * node reports done()), so the run is deterministic. Also: metrics output, bad input, the
 * system's processing section, and frames reaching a detector stopped by the system's shutdown.
 */
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { startCameraSim } from '../../../lib/camera/sim';
import type { ClipKind } from '../../../lib/camera/testclips';
import { FakeClock } from '../../../lib/common/clock';
import type { SystemHub } from '../../../lib/system/hub';
import type { DetectorMetrics } from '../../../lib/system/types';
import { clip } from '../../helpers/clips';
import { collect, coreNode, helper, nodeModule, until } from '../../helpers/nodered';

const motionModule = nodeModule('vigil-motion');
const systemModule = nodeModule('vigil-system');
const cameraModule = nodeModule('vigil-camera');
const completeModule = coreNode('core/common/24-complete.js');
const catchModule = coreNode('core/common/25-catch.js');

type Msg = { topic?: string; payload: unknown; counts?: number[]; error?: { message: string } };
type Spy = { called: boolean; args: unknown[][] };
const spy = (n: Node, method: 'error' | 'warn' | 'log' | 'status'): Spy => (n as unknown as Record<string, Spy>)[method];


function flow(extra: Record<string, unknown> = {}): Array<Record<string, unknown>> {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'mo', z: 'tab', type: 'vigil-motion', fps: 2, avgWeighting: 0.5, dilationIterations: 0, fixedLvlThreshold: 5, gaussKsize: 13, pixelThresholdLo: 0, pixelThresholdHi: 10000, resizeWidth: 640, engine: 'auto', ...extra, wires: [['sec'], ['met']] },
    { id: 'sec', z: 'tab', type: 'helper' },
    { id: 'met', z: 'tab', type: 'helper' },
    { id: 'cpl', z: 'tab', type: 'complete', scope: ['mo'], uncaught: false, wires: [['done']] },
    { id: 'done', z: 'tab', type: 'helper' },
    { id: 'ctch', z: 'tab', type: 'catch', scope: ['mo'], uncaught: false, wires: [['err']] },
    { id: 'err', z: 'tab', type: 'helper' },
  ];
}

/** Feed frames one after another at 15 fps (frame time), waiting for each done(). */
async function feed(frames: Buffer[], passes = 2): Promise<void> {
  const mo = helper.getNode('mo');
  const done = collect<Msg>('done');
  const t0 = Date.now();
  for (let i = 0; i < frames.length * passes; i++) {
    mo.receive({ payload: frames[i % frames.length], frame: { seq: i + 1, width: 640, height: 480, timestamp: t0 + Math.round((i * 1000) / 15) } } as never);
    await until(() => done.length === i + 1, `frame ${i} done`, 2000, 5);
  }
}

describe('vigil-motion node', function () {
  this.timeout(60000);
  beforeEach(async () => {
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  const cases: Array<[ClipKind, (m: boolean[]) => boolean, string]> = [
    ['moving', (m) => m.filter(Boolean).length >= m.length - 1, 'motion seconds'],
    ['still', (m) => m.every((x) => !x), 'no motion'],
    ['lighting', (m) => m.every((x) => !x), 'no motion (the jump is above hi)'],
  ];
  for (const [kind, ok, what] of cases) {
    it(`${kind} clip → ${what}`, async () => {
      await helper.load([motionModule, completeModule, catchModule], flow() as never);
      const secs = collect<Msg>('sec');
      await feed(await clip(kind));
      const motion = secs.map((m) => m.payload as boolean);
      assert.ok(motion.length >= 7, `seconds: ${motion.length}`);
      assert.ok(secs.every((m) => m.topic === 'motion' && Array.isArray(m.counts) && m.counts.length === 2));
      assert.ok(ok(motion), `${kind}: ${motion.join(',')} counts ${secs.map((m) => m.counts?.join('/')).join(' ')}`);
      if (kind === 'lighting') assert.ok(secs.some((m) => m.counts!.some((c) => c > 10000)), 'the jump was seen, above hi');
      const mo = helper.getNode('mo');
      assert.ok(spy(mo, 'log').args.some((a) => /vigil-motion.log.engine/.test(String(a[0]))), 'the log says which engine');
      assert.equal(spy(mo, 'error').called, false);
    });
  }

  it('sends metrics about once a second with the engine name', async () => {
    // the metrics period runs on the flow-wide FakeClock: no wall-clock waiting for it
    const clock = new FakeClock(Date.now());
    helper.settings({ vigilClock: clock } as never);
    try {
      await helper.load([motionModule, completeModule, catchModule], flow({ fps: 5 }) as never);
      const met = collect<Msg>('met');
      await feed((await clip('moving')).slice(0, 9), 1);
      assert.equal(met.length, 0, 'nothing before the period is up');
      clock.advance(1000);
      await until(() => met.length >= 1, 'metrics');
      const m = met[0].payload as DetectorMetrics;
      assert.equal(met[0].topic, 'metrics');
      assert.ok(['opencv', 'sharp'].includes(m.engine));
      assert.ok(m.frames >= 1 && m.loopMinS > 0 && m.loopMinS <= m.loopAvgS && m.loopAvgS <= m.loopMaxS);
    } finally {
      helper.settings({});
    }
  });

  it('engine sharp runs in its worker and agrees with the clips', async () => {
    await helper.load([motionModule, completeModule, catchModule], flow({ engine: 'sharp' }) as never);
    const secs = collect<Msg>('sec');
    await feed((await clip('moving')).slice(0, 50), 1);
    assert.ok(secs.length >= 3 && secs.slice(1).every((m) => m.payload === true), secs.map((m) => m.counts?.join('/')).join(' '));
    const last = spy(helper.getNode('mo'), 'status').args.at(-1)?.[0] as { text: string };
    assert.match(last.text, /vigil-motion.status.motion/);
  });

  it('non-image payloads are errors (Catch); a corrupt JPEG is warned and skipped', async () => {
    await helper.load([motionModule, completeModule, catchModule], flow({ fps: 30 }) as never);
    const errs = collect<Msg>('err');
    const done = collect<Msg>('done');
    const mo = helper.getNode('mo');
    mo.receive({ payload: 'hello' } as never);
    mo.receive({ payload: Buffer.from('not a jpeg') } as never);
    await until(() => errs.length === 2, 'two errors');
    assert.match(errs[0].error!.message, /notBuffer/);
    assert.match(errs[1].error!.message, /notJpeg/);
    const frames = await clip('moving');
    mo.receive({ payload: frames[0].subarray(0, 3000), frame: { timestamp: 1000 } } as never);
    await until(() => spy(mo, 'warn').called, 'warning');
    assert.match(String(spy(mo, 'warn').args[0][0]), /vigil-motion.errors.corrupt/);
    mo.receive({ payload: frames[1], frame: { timestamp: 2000 } } as never);
    await until(() => done.length === 2, 'both frames done');
    assert.equal(errs.length, 2, 'a corrupt frame is not an error for the flow');
  });

  it('a frame size change mid-stream resets the background with a warning', async () => {
    await helper.load([motionModule, completeModule, catchModule], flow({ fps: 30, resizeWidth: 0 }) as never);
    const done = collect<Msg>('done');
    const mo = helper.getNode('mo');
    const small = await clip('still', { frames: 2 });
    const big = await clip('still', { width: 1280, height: 720, frames: 2 });
    const order = [small[0], small[1], big[0], big[1]];
    for (let i = 0; i < order.length; i++) {
      mo.receive({ payload: order[i], frame: { timestamp: 1000 + i * 100 } } as never);
      await until(() => done.length === i + 1, `frame ${i}`);
    }
    const warns = spy(mo, 'warn').args.map((a) => String(a[0]));
    assert.equal(warns.filter((w) => /vigil-motion.errors.resized/.test(w)).length, 1, warns.join(' | '));
    assert.equal(spy(mo, 'error').called, false);
  });

  it('end to end: camera-sim → vigil-camera → vigil-motion gives motion seconds', async () => {
    const sim = await startCameraSim({ frames: await clip('moving'), fps: 15 });
    try {
      const f = flow();
      f.push({ id: 'cam', z: 'tab', type: 'vigil-camera', source: 'mjpeg', url: `${sim.url}/stream.mjpg`, fps: 15, wires: [['mo']] });
      await helper.load([cameraModule, motionModule, completeModule, catchModule], f as never);
      const secs = collect<Msg>('sec');
      await until(() => secs.length >= 3, 'three detection seconds', 1000);
      assert.ok(secs.some((m) => m.payload === true), secs.map((m) => m.counts?.join('/')).join(' '));
      assert.ok(secs.every((m) => m.counts!.length === 2));
    } finally {
      await helper.unload();
      await sim.close();
    }
  });

  it('invalid settings refuse to start with a clear status', async () => {
    await helper.load([motionModule], [{ id: 'mo', type: 'vigil-motion', fps: 2, gaussKsize: 4, wires: [[], []] }] as never);
    const mo = helper.getNode('mo');
    assert.match(String(spy(mo, 'error').args[0][0]), /vigil-motion.errors.invalid/);
    assert.equal((spy(mo, 'status').args.at(-1)?.[0] as { fill: string }).fill, 'red');
  });

  it('with a system: owns the processing section, applies in place, publishes metrics', async () => {
    const clock = new FakeClock(Date.now());
    helper.settings({ vigilClock: clock } as never);
    const f = flow({ system: 'sys', fps: 5 });
    f.push({ id: 'sys', type: 'vigil-system', name: 'test' });
    await helper.load([systemModule, motionModule, completeModule, catchModule], f as never);
    const hub = (helper.getNode('sys') as unknown as { hub: SystemHub }).hub;
    const doc = hub.getConfig();
    assert.deepEqual(doc.processing, {
      fps: 5,
      avg_weighting: 0.5,
      dilation_iterations: 0,
      fixed_lvl_threshold: 5,
      gauss_ksize: 13,
      pixel_threshold_hi: 10000,
      pixel_threshold_lo: 0,
      resize_width: 640,
      engine: 'auto',
    });
    const bad = hub.validateConfig({ ...doc, processing: { ...doc.processing, gauss_ksize: 4, fps: 0 } });
    assert.deepEqual(
      bad.map((e) => [e.loc.join('.'), e.msg]),
      [
        ['processing.fps', 'The value must be greater than zero'],
        ['processing.gauss_ksize', 'The guassian ksize option must be odd'],
      ],
    );
    // the engine is fixed at deploy: a config_update may send it back unchanged, not change it
    assert.deepEqual(
      hub.validateConfig({ ...doc, processing: { ...doc.processing, engine: 'sharp' } }).map((e) => e.loc.join('.')),
      ['processing.engine'],
    );
    assert.deepEqual(hub.applyConfig({ ...doc, processing: { ...doc.processing, pixel_threshold_hi: 9000 } }), []);
    assert.equal(hub.getConfig().processing!.pixel_threshold_hi, 9000);
    try {
      await feed((await clip('moving')).slice(0, 5), 1);
      clock.advance(1000); // the metrics period, on the flow clock
      await until(() => hub.metrics !== undefined, 'metrics on the hub');
    } finally {
      helper.settings({});
    }
  });

  it('stopped by the system\'s shutdown: frames are done() with the status "shut down" and one warning; a deploy of the detector starts the system again', async () => {
    const f = (name: string): Array<Record<string, unknown>> => {
      const fl = flow({ system: 'sys', engine: 'sharp', fps: 1, name });
      fl.push({ id: 'sys', z: 'tab', type: 'vigil-system', name: 'test' });
      return fl;
    };
    await helper.load([systemModule, motionModule, completeModule, catchModule], f('') as never);
    const hub = (helper.getNode('sys') as unknown as { hub: SystemHub }).hub;
    const starts: unknown[] = [];
    hub.on('start', () => starts.push(1));
    assert.deepEqual(await hub.command('shutdown', { shutdownIn: 0 }), { status: 'OK' });
    await until(() => !hub.running, 'shut down');
    let mo = helper.getNode('mo');
    const last = (): string => String((spy(mo, 'status').args.at(-1)?.[0] as { text?: string }).text);
    assert.equal(last(), 'vigil-motion.status.shutdown');
    const frames = await clip('moving');
    const done = collect<Msg>('done');
    const errs = collect<Msg>('err');
    const secs = collect<Msg>('sec');
    for (let i = 0; i < 3; i++) {
      mo.receive({ payload: frames[i], frame: { timestamp: 1000 + i * 1000 } } as never);
      await until(() => done.length === i + 1, `frame ${i} done`);
    }
    const dropped = spy(mo, 'warn').args.filter((a) => /vigil-motion.errors.droppedShutdown/.test(String(a[0])));
    assert.equal(dropped.length, 1, 'one warning per shutdown, not one per frame');
    assert.equal(last(), 'vigil-motion.status.shutdown');
    assert.equal(errs.length, 0, 'not an error per frame');
    assert.equal(secs.length, 0);

    // a "modified nodes" deploy of the detector alone: the system starts again
    await helper.setFlows(f('renamed') as never, 'nodes');
    assert.equal(hub.running, true);
    assert.equal(starts.length, 1);
    mo = helper.getNode('mo');
    assert.match(last(), /vigil-motion.status.ready/);
    const secs2 = collect<Msg>('sec');
    const done2 = collect<Msg>('done');
    mo.receive({ payload: frames[0], frame: { timestamp: 10000 } } as never);
    await until(() => done2.length === 1, 'frame done');
    await until(() => secs2.length === 1, 'a detection second');
  });
});
