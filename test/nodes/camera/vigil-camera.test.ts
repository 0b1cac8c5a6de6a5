/**
 * vigil-camera in Node-RED against real loopback sources: an MJPEG HTTP server (camera-sim,
 * with Digest auth), a snapshot server, a file, ffmpeg on a generated video file; plus
 * start/stop, the missing-ffmpeg error, input frames and the system's camera section, and
 * the system's shutdown: what a "start" message and a deploy do afterwards.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Node } from 'node-red';
import { CameraSim, startCameraSim } from '../../../lib/camera/sim';
import { FakeClock } from '../../../lib/common/clock';
import { findFfmpeg } from '../../../lib/common/ffmpeg';
import type { SystemHub } from '../../../lib/system/hub';
import type { FrameInfo } from '../../../lib/system/types';
import { clip, tempDir, videoFile } from '../../helpers/clips';
import { collect, helper, nodeModule, settle, until, untilClock } from '../../helpers/nodered';

const cameraModule = nodeModule('vigil-camera');
const systemModule = nodeModule('vigil-system');
const motionModule = nodeModule('vigil-motion');

type FrameMsg = { payload: Buffer; frame: FrameInfo; topic: string };


type Spy = { called: boolean; args: unknown[][] };
const spy = (n: Node, method: 'error' | 'warn' | 'status' | 'log'): Spy => (n as unknown as Record<string, Spy>)[method];
const lastStatus = (n: Node): string => String((spy(n, 'status').args.at(-1)?.[0] as { text?: string } | undefined)?.text);

/** Processes whose command line mentions `needle` (Linux /proc). */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('vigil-camera node', function () {
  this.timeout(30000);
  let sim: CameraSim | undefined;
  let frames: Buffer[];

  before(async () => {
    frames = (await clip('moving')).slice(0, 8);
  });
  beforeEach(async () => {
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    await sim?.close();
    sim = undefined;
  });

  it('streams MJPEG from an HTTP camera with Digest credentials', async () => {
    sim = await startCameraSim({ frames, fps: 30, auth: 'digest', username: 'viewer', password: 's3cret' });
    const flow = [
      { id: 'cam', type: 'vigil-camera', source: 'mjpeg', url: `${sim.url}/stream.mjpg`, fps: 0, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load([cameraModule], flow, { cam: { username: 'viewer', password: 's3cret' } });
    const got = collect<FrameMsg>('out');
    await until(() => got.length >= 5, 'five frames', 1000);
    assert.ok(got.every((m) => Buffer.isBuffer(m.payload) && frames.some((f) => f.equals(m.payload))));
    assert.deepEqual(
      got.slice(0, 3).map((m) => [m.frame.seq, m.frame.width, m.frame.height, m.topic]),
      [
        [1, 640, 480, 'frame'],
        [2, 640, 480, 'frame'],
        [3, 640, 480, 'frame'],
      ],
    );
    assert.ok(got[0].frame.timestamp > 0);
    assert.equal(spy(helper.getNode('cam'), 'error').called, false);
  });

  it('wrong credentials: warnings for the first two failures, then an error once; red status; retries', async () => {
    sim = await startCameraSim({ frames, fps: 30, auth: 'basic', username: 'viewer', password: 's3cret' });
    const flow = [{ id: 'cam', type: 'vigil-camera', source: 'mjpeg', url: `${sim.url}/stream.mjpg`, wires: [[]] }];
    const clock = new FakeClock(Date.now());
    helper.settings({ vigilClock: clock } as never);
    await helper.load([cameraModule], flow, { cam: { username: 'viewer', password: 'nope' } });
    helper.settings({});
    const cam = helper.getNode('cam');
    await untilClock(clock, () => spy(cam, 'error').called, 'error', 2000); // back-off 1 s, 2 s on the flow clock
    assert.match(String(spy(cam, 'error').args[0][0]), /vigil-camera.errors.source/);
    assert.equal(spy(cam, 'warn').args.filter((a) => /vigil-camera.errors.source/.test(String(a[0]))).length, 1, 'one warning (same error) before the error');
    assert.equal(spy(cam, 'error').args.length, 1);
    const statuses = spy(cam, 'status').args.map((a) => a[0] as { fill?: string });
    assert.ok(statuses.some((s) => s.fill === 'red'));
  });

  it('a camera that stops sending: the stall watchdog reconnects and the status says so (FakeClock)', async () => {
    sim = await startCameraSim({ frames, fps: 30 });
    const clock = new FakeClock(Date.now());
    helper.settings({ vigilClock: clock } as never);
    try {
      const flow = [
        { id: 'cam', type: 'vigil-camera', source: 'mjpeg', url: `${sim.url}/stream.mjpg`, fps: 0, stallTimeout: 30, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ];
      await helper.load([cameraModule], flow);
      const got = collect<FrameMsg>('out');
      await until(() => got.length >= 2, 'frames');
      sim.pause(true);
      const cam = helper.getNode('cam');
      const texts = (): string[] => spy(cam, 'status').args.map((a) => String((a[0] as { text?: string }).text));
      // 30 s of flow time after the last frame (the status tick fires each second on the way)
      await untilClock(clock, () => texts().includes('vigil-camera.status.stalled'), 'the stall', 31_000);
      assert.ok(texts().includes('vigil-camera.status.stalled'), texts().join(' | '));
      assert.match(String(spy(cam, 'warn').args.at(-1)?.[0]), /vigil-camera.errors.stalled/);
      sim.pause(false);
      const before = got.length;
      clock.advance(1_000); // the back-off after a stall: 1 s
      await until(() => got.length > before, 'frames after the reconnect');
      assert.ok(sim.clients >= 1);
    } finally {
      helper.settings({});
    }
  });

  it('a flood of bad MJPEG parts is warned rate-limited: five lines, then one summary per minute (FakeClock)', async () => {
    const BAD = 2000;
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace; boundary=b' });
      const junk = Buffer.from('--b\r\nContent-Type: text/plain\r\n\r\nnot a jpeg\r\n');
      res.write(Buffer.concat(Array.from({ length: BAD }, () => junk)));
      res.write(Buffer.concat([Buffer.from('--b\r\nContent-Type: image/jpeg\r\n\r\n'), frames[0], Buffer.from('\r\n--b\r\n')]));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const clock = new FakeClock(Date.now());
    helper.settings({ vigilClock: clock } as never);
    try {
      const port = (server.address() as AddressInfo).port;
      const flow = [
        { id: 'cam', type: 'vigil-camera', source: 'mjpeg', url: `http://127.0.0.1:${port}/`, fps: 0, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ];
      await helper.load([cameraModule], flow);
      const got = collect<FrameMsg>('out');
      await until(() => got.length >= 1, 'the good frame after the bad parts');
      const cam = helper.getNode('cam');
      const warned = (): string[] => spy(cam, 'warn').args.map((a) => String(a[0]));
      assert.equal(warned().filter((w) => /badFrame/.test(w)).length, 5, warned().slice(0, 8).join(' | '));
      clock.advance(60_000);
      const summaries = warned().filter((w) => /more warning/.test(w));
      assert.equal(summaries.length, 1);
      assert.match(summaries[0], new RegExp(`^${BAD - 5} more`));
    } finally {
      helper.settings({});
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('polls a snapshot URL at the frame rate', async () => {
    sim = await startCameraSim({ frames, fps: 30 });
    const flow = [
      { id: 'cam', type: 'vigil-camera', source: 'snapshot', url: `${sim.url}/snapshot.jpg`, fps: 20, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load([cameraModule], flow);
    const got = collect<FrameMsg>('out');
    await until(() => got.length >= 4, 'four snapshots', 1000);
    assert.ok(got.every((m) => frames.some((f) => f.equals(m.payload))));
  });

  it('plays a local MJPEG file in a loop; stop and start by message (FakeClock)', async () => {
    const t = tempDir();
    const clock = new FakeClock(Date.now());
    helper.settings({ vigilClock: clock } as never);
    try {
      const file = path.join(t.dir, 'clip.mjpeg');
      fs.writeFileSync(file, Buffer.concat(frames.slice(0, 3)));
      const flow = [
        { id: 'cam', type: 'vigil-camera', source: 'file', url: file, fps: 50, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ];
      await helper.load([cameraModule], flow);
      const got = collect<FrameMsg>('out');
      await untilClock(clock, () => got.length >= 7, 'the clip twice');
      assert.ok(got[3].payload.equals(got[0].payload), 'looped');
      const cam = helper.getNode('cam');
      cam.receive({ payload: 'stop' } as never);
      await until(() => lastStatus(cam) === 'vigil-camera.status.stopped', 'stopped');
      await settle();
      const n = got.length;
      clock.advance(2000); // 100 frame times
      await settle();
      assert.equal(got.length, n, 'no frames while stopped');
      cam.receive({ payload: 'start' } as never);
      await untilClock(clock, () => got.length > n + 2, 'frames again');
    } finally {
      helper.settings({});
      t.cleanup();
    }
  });

  // Once with the lookup as a user gets it (the system ffmpeg when there is one), once forcing
  // the ffmpeg shipped in the npm package @ffmpeg-installer/ffmpeg (what a machine without
  // ffmpeg runs). The video is generated with the same lookup.
  for (const force of [undefined, 'bundled'] as const) {
    it(`runs ${force ?? 'the looked-up'} ffmpeg on a generated video file, says which, and kills it on close`, async function () {
      const saved = process.env.VIGIL_FFMPEG;
      if (force) process.env.VIGIL_FFMPEG = force;
      const expected = findFfmpeg();
      const t = tempDir('vigil-ffmpeg-node-');
      try {
        const video = videoFile(t.dir, await clip('moving'), 'moving.avi');
        const flow = [
          { id: 'cam', type: 'vigil-camera', source: 'ffmpeg', url: video, fps: 0, wires: [['out']] },
          { id: 'out', type: 'helper' },
        ];
        await helper.load([cameraModule], flow);
        const cam = helper.getNode('cam');
        const got = collect<FrameMsg>('out');
        await until(() => got.length >= 5, 'frames from ffmpeg', 1000);
        assert.ok(got.every((m) => m.payload[0] === 0xff && m.payload[1] === 0xd8 && m.frame.width === 640 && m.frame.height === 480));
        const pids = processesWith(video);
        assert.equal(pids.length, 1, 'one ffmpeg running');
        assert.equal(fs.readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8').split('\0')[0], expected.path, `runs ${expected.describe}`);
        if (force) assert.equal(expected.source, 'bundled');
        assert.ok(spy(cam, 'log').args.some((x) => /vigil-camera.log.ffmpeg/.test(String(x[0]))), 'the log says which ffmpeg');
        assert.ok(spy(cam, 'status').args.some((x) => /vigil-camera.status.connectingFfmpeg/.test(String((x[0] as { text?: string }).text))), 'the status says which ffmpeg');
        await helper.unload();
        // close waits for ffmpeg to exit, so a redeploy never overlaps two of them
        assert.deepEqual(processesWith(video), [], 'ffmpeg gone when close is done');
      } finally {
        if (saved === undefined) delete process.env.VIGIL_FFMPEG;
        else process.env.VIGIL_FFMPEG = saved;
        t.cleanup();
      }
    });
  }

  it('ffmpeg missing: the error names apt-get install ffmpeg', async () => {
    const flow = [{ id: 'cam', type: 'vigil-camera', source: 'ffmpeg', url: 'rtsp://127.0.0.1:1/none', ffmpegPath: '/nonexistent/ffmpeg', wires: [[]] }];
    const clock = new FakeClock(Date.now());
    helper.settings({ vigilClock: clock } as never);
    await helper.load([cameraModule], flow);
    helper.settings({});
    const cam = helper.getNode('cam');
    await untilClock(clock, () => spy(cam, 'error').called, 'error', 2000); // the third failure: back-off 1 s, 2 s
    assert.match(String(spy(cam, 'error').args[0][0]), /vigil-camera.errors.source/);
    const payload = (spy(cam, 'error').args[0][1] as { payload: string }).payload;
    assert.match(payload, /apt-get install ffmpeg/);
  });

  it('no URL or "start on deploy" off: stays stopped without an error', async () => {
    const flow = [
      { id: 'a', type: 'vigil-camera', source: 'ffmpeg', url: '', wires: [[]] },
      { id: 'b', type: 'vigil-camera', source: 'ffmpeg', url: 'rtsp://camera.invalid/stream', autoStart: false, wires: [[]] },
    ];
    await helper.load([cameraModule], flow);
    await settle(); // neither node starts a source: nothing is under way that could fail later
    for (const id of ['a', 'b']) {
      const n = helper.getNode(id);
      assert.equal(spy(n, 'error').called, false, id);
      const last = spy(n, 'status').args.at(-1)?.[0] as { fill: string; text: string };
      assert.equal(last.fill, 'grey', id);
    }
    const a = helper.getNode('a');
    a.receive({ payload: 'start' } as never);
    await until(() => spy(a, 'error').called, 'start without a URL is an error for that message');
    assert.match(String(spy(a, 'error').args[0][0]), /noUrl/);
  });

  it('input source: JPEG buffers pass through the cap; anything else is an error', async () => {
    const flow = [
      { id: 'cam', type: 'vigil-camera', source: 'input', fps: 0, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load([cameraModule], flow);
    const got = collect<FrameMsg>('out');
    const cam = helper.getNode('cam');
    cam.receive({ payload: frames[0] } as never);
    await until(() => got.length === 1, 'frame');
    assert.equal(got[0].frame.seq, 1);
    cam.receive({ payload: Buffer.from('not a jpeg') } as never);
    await until(() => spy(cam, 'error').called, 'error');
    assert.match(String(spy(cam, 'error').args[0][0]), /notJpeg/);
    cam.receive({ payload: 42 } as never);
    await until(() => spy(cam, 'error').args.length === 2, 'second error');
    assert.match(String(spy(cam, 'error').args[1][0]), /badInput/);
  });

  it('with a system: owns the camera section, publishes frames, stops on shutdown', async () => {
    sim = await startCameraSim({ frames, fps: 30 });
    const flow = [
      { id: 'sys', type: 'vigil-system', name: 'test' },
      { id: 'cam', type: 'vigil-camera', system: 'sys', source: 'mjpeg', url: '', fps: 0, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load([systemModule, cameraModule], flow);
    const hub = (helper.getNode('sys') as unknown as { hub: SystemHub }).hub;
    const got = collect<FrameMsg>('out');
    assert.deepEqual(hub.getConfig().camera, { url: '' });
    assert.deepEqual(hub.validateConfig({ ...hub.getConfig(), camera: { url: 5 } }).map((e) => e.loc), [['camera', 'url']]);
    assert.deepEqual(hub.applyConfig({ ...hub.getConfig(), camera: { url: `${sim.url}/stream.mjpg` } }), []);
    await until(() => got.length >= 2 && hub.frame !== undefined, 'frames after the URL was set', 1000);
    assert.ok(hub.frame!.jpeg.equals(got[got.length - 1].payload) || frames.some((f) => f.equals(hub.frame!.jpeg)));
    hub.shutdown();
    await until(() => sim!.clients === 0, 'the camera hung up'); // no stream left that could bring a frame
    await settle();
    const n = got.length;
    assert.equal(lastStatus(helper.getNode('cam')), 'vigil-camera.status.shutdown', 'stopped by the shutdown');
    hub.start();
    await until(() => got.length > n, 'started again', 1000);
    // A URL with credentials is served masked, and the mask sent back keeps it.
    const secret = `http://viewer:pw@127.0.0.1:${sim.port}/stream.mjpg`;
    assert.deepEqual(hub.applyConfig({ ...hub.getConfig(), camera: { url: secret } }), []);
    assert.deepEqual(hub.getConfig({ maskSecrets: true }).camera, { url: `http://viewer:********@127.0.0.1:${sim.port}/stream.mjpg` });
    assert.deepEqual(hub.applyConfig(hub.getConfig({ maskSecrets: true })), []);
    assert.deepEqual(hub.getConfig().camera, { url: secret });
  });

  describe('after the API\'s shutdown (camera → detector on one system)', () => {
    const systemFlow = (camName = ''): Array<Record<string, unknown>> => [
      { id: 'tab', type: 'tab' },
      { id: 'sys', z: 'tab', type: 'vigil-system', name: 'test' },
      { id: 'cam', z: 'tab', type: 'vigil-camera', name: camName, system: 'sys', source: 'input', fps: 0, wires: [['out', 'mo']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'mo', z: 'tab', type: 'vigil-motion', system: 'sys', fps: 1, engine: 'sharp', wires: [['sec'], []] },
      { id: 'sec', z: 'tab', type: 'helper' },
    ];
    /** The node's own calls (the helper's spies sit on Node.prototype, shared by every node). */
    const own = (id: string, method: 'warn' | 'status' | 'error'): unknown[][] => {
      const n = helper.getNode(id);
      const calls = (n as unknown as Record<string, { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> }>)[method].getCalls();
      return calls.filter((c) => c.thisValue === n).map((c) => c.args);
    };
    const lastText = (id: string): string => String((own(id, 'status').at(-1)?.[0] as { text?: string } | undefined)?.text);
    const hubOf = (): SystemHub => (helper.getNode('sys') as unknown as { hub: SystemHub }).hub;

    async function shutDown(): Promise<SystemHub> {
      const hub = hubOf();
      assert.deepEqual(await hub.command('shutdown', { shutdownIn: 0 }), { status: 'OK' });
      await until(() => !hub.running, 'shut down');
      assert.equal(lastText('cam'), 'vigil-camera.status.shutdown');
      assert.equal(lastText('mo'), 'vigil-motion.status.shutdown');
      return hub;
    }

    it('frames are dropped with one warning, then "start" starts the whole system: camera and detector', async () => {
      await helper.load([systemModule, cameraModule, motionModule], systemFlow() as never);
      const out = collect<FrameMsg>('out');
      const sec = collect<FrameMsg>('sec');
      const cam = helper.getNode('cam');
      const hub = await shutDown();
      cam.receive({ payload: frames[0] } as never);
      cam.receive({ payload: frames[1] } as never);
      const dropped = (): number => own('cam', 'warn').filter((a) => /vigil-camera.errors.droppedShutdown/.test(String(a[0]))).length;
      await until(() => dropped() > 0, 'the warning');
      await settle(); // both inputs are handled by now
      assert.equal(dropped(), 1, 'once per shutdown');
      assert.equal(out.length, 0);
      assert.deepEqual(own('cam', 'error'), [], 'dropped, not an error per frame');

      cam.receive({ payload: 'start' } as never);
      await until(() => hub.running, 'the system runs again');
      assert.match(lastText('mo'), /vigil-motion.status.ready/);
      cam.receive({ payload: frames[2] } as never);
      await until(() => out.length === 1 && sec.length === 1, 'the frame went through the camera and the detector');
      assert.equal(sec[0].topic, 'motion');
    });

    it('a "modified nodes" deploy of the camera starts the system again (the detector too)', async () => {
      await helper.load([systemModule, cameraModule, motionModule], systemFlow() as never);
      const hub = await shutDown();
      const before = hub;
      await helper.setFlows(systemFlow('renamed') as never, 'nodes');
      assert.equal(hubOf(), before, 'the system node itself was not redeployed');
      assert.equal(hub.running, true);
      assert.match(lastText('mo'), /vigil-motion.status.ready/, 'the (unchanged) detector started again');
      const out = collect<FrameMsg>('out');
      const sec = collect<FrameMsg>('sec');
      helper.getNode('cam').receive({ payload: frames[0] } as never);
      await until(() => out.length === 1 && sec.length === 1, 'frames flow through camera and detector');
    });
  });
});
