import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Camera, CameraSettings, CameraState } from '../../../lib/camera/camera';
import { LatestSlot, RateGate } from '../../../lib/common/rate';
import { startCameraSim } from '../../../lib/camera/sim';
import { FfmpegMissingError, FfmpegSource, FileSource, FrameSource, MjpegHttpSource, SnapshotSource, ffmpegArgs } from '../../../lib/camera/sources';
import { FakeClock } from '../../../lib/common/clock';
import { FrameInfo } from '../../../lib/system/types';
import { clip, tempDir, videoFile } from '../../helpers/clips';

class FakeSource extends EventEmitter implements FrameSource {
  readonly kind = 'fake';
  started = false;
  stopped = false;
  start(): void {
    this.started = true;
  }
  stop(): void {
    this.stopped = true;
  }
}

/** Collect frames from a real source until `n` arrived. */
function frames(src: FrameSource, n: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    src.on('frame', (f: Buffer) => {
      got.push(f);
      if (got.length === n) resolve(got);
    });
    src.on('error', reject);
    src.start();
  });
}

function errorOf(src: FrameSource): Promise<Error> {
  return new Promise((resolve) => {
    src.on('error', resolve);
    src.start();
  });
}

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 48, 0, 64, 1, 1, 0x11, 0, 0xff, 0xd9]);

describe('camera', function () {
  this.timeout(30000);

  describe('rate cap and slot', () => {
    it('caps 15 fps to 10 on average, dropping (never queueing)', () => {
      const g = new RateGate(10);
      let n = 0;
      for (let i = 0; i < 150; i++) if (g.admit((i * 1000) / 15)) n++;
      assert.equal(n, 100);
      const none = new RateGate(0);
      assert.ok([0, 1, 2].every((t) => none.admit(t)));
    });
    it('a newer item replaces the waiting one', () => {
      const s = new LatestSlot<number>();
      assert.equal(s.put(1), undefined);
      assert.equal(s.put(2), 1);
      assert.equal(s.take(), 2);
      assert.equal(s.take(), undefined);
    });
  });

  describe('reconnect, back-off and watchdog (FakeClock)', () => {
    function setup(settings: Partial<CameraSettings> = {}) {
      const clock = new FakeClock(1_000_000);
      const sources: FakeSource[] = [];
      const cam = new Camera({ source: 'mjpeg', url: 'http://cam', fps: 0, ...settings }, { clock, sourceFactory: () => (sources.push(new FakeSource()), sources[sources.length - 1]) });
      const states: CameraState[] = [];
      const got: FrameInfo[] = [];
      cam.on('state', (s: CameraState) => states.push(s));
      cam.on('frame', (_j: Buffer, info: FrameInfo) => got.push(info));
      return { clock, sources, cam, states, got };
    }

    it('backs off 1, 2, 4, 8, 16, 30, 30 s between failed attempts and resets after a frame', () => {
      const { clock, sources, cam, states } = setup();
      cam.start();
      const waits: number[] = [];
      for (let i = 0; i < 7; i++) {
        sources[sources.length - 1].emit('error', new Error('ECONNREFUSED'));
        const s = states[states.length - 1];
        assert.equal(s.state, 'waiting');
        assert.equal(s.error, 'ECONNREFUSED');
        waits.push(s.retryInMs!);
        clock.advance(s.retryInMs! - 1);
        assert.equal(sources.length, i + 1, 'not before the delay');
        clock.advance(1);
        assert.equal(sources.length, i + 2, 'a new attempt after the delay');
      }
      assert.deepEqual(waits, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
      assert.ok(sources.slice(0, -1).every((s) => s.stopped), 'failed sources are stopped');
      sources[sources.length - 1].emit('frame', JPEG);
      sources[sources.length - 1].emit('end');
      assert.equal(states[states.length - 1].retryInMs, 1000, 'a frame resets the back-off');
      cam.close();
      assert.equal(clock.pending, 0, 'close clears every timer');
    });

    it('the stall watchdog reconnects a source that goes silent for 30 s, and says so', () => {
      const { clock, sources, cam, states, got } = setup();
      cam.start();
      sources[0].emit('open');
      sources[0].emit('frame', JPEG);
      assert.equal(got.length, 1);
      assert.deepEqual([got[0].width, got[0].height, got[0].seq], [64, 48, 1]);
      clock.advance(29_000);
      assert.equal(sources.length, 1);
      clock.advance(1_000);
      assert.ok(sources[0].stopped);
      const s = states[states.length - 1];
      assert.equal(s.state, 'stalled');
      assert.match(s.error!, /no frame for 30 s/);
      clock.advance(s.retryInMs!);
      assert.equal(sources.length, 2);
      assert.equal(cam.stats.stalls, 1);
      cam.stop();
      assert.equal(states[states.length - 1].state, 'stopped');
      assert.equal(clock.pending, 0);
    });

    it('caps the frame rate, numbers frames, skips unreadable ones', () => {
      const { clock, sources, cam, got } = setup({ fps: 5 });
      cam.start();
      for (let i = 0; i < 30; i++) {
        sources[0].emit('frame', JPEG);
        clock.advance(1000 / 15);
      }
      assert.equal(got.length, 10);
      assert.deepEqual(got.map((f) => f.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(cam.stats.dropped, 20);
      clock.advance(1000);
      sources[0].emit('frame', Buffer.from([0xff, 0xd8, 0xff, 0x00]));
      assert.equal(cam.stats.bad, 1);
      cam.close();
    });

    it('input source: frames come from outside, through the cap; none while stopped', () => {
      const { cam, got, sources } = setup({ source: 'input', fps: 0 });
      assert.equal(cam.input(JPEG), undefined, 'stopped');
      cam.start();
      assert.equal(sources.length, 0);
      assert.equal(cam.input(JPEG)?.seq, 1);
      assert.equal(got.length, 1);
      cam.close();
    });
  });

  describe('sources (loopback)', () => {
    it('MJPEG over HTTP with Digest auth, and Basic', async () => {
      const clipFrames = (await clip('moving')).slice(0, 10);
      for (const mode of ['digest', 'basic'] as const) {
        const sim = await startCameraSim({ frames: clipFrames, fps: 30, auth: mode, username: 'u', password: 'p w' });
        try {
          const src = new MjpegHttpSource(`${sim.url}/stream.mjpg`, { username: 'u', password: 'p w' });
          const got = await frames(src, 3);
          src.stop();
          assert.ok(got.every((f) => clipFrames.some((c) => c.equals(f))), mode);
          const bad = new MjpegHttpSource(`${sim.url}/stream.mjpg`, { username: 'u', password: 'wrong' });
          assert.match((await errorOf(bad)).message, /HTTP 401/);
        } finally {
          await sim.close();
        }
      }
    });

    it('MJPEG source refuses a single-JPEG URL with a hint', async () => {
      const sim = await startCameraSim({ frames: await clip('still', { frames: 2 }) });
      try {
        assert.match((await errorOf(new MjpegHttpSource(`${sim.url}/snapshot.jpg`))).message, /snapshot/);
        assert.match((await errorOf(new MjpegHttpSource(`${sim.url}/nope`))).message, /HTTP 404/);
      } finally {
        await sim.close();
      }
    });

    it('snapshot poller: one request per interval, JPEG checked', async () => {
      const clipFrames = (await clip('moving')).slice(0, 5);
      const sim = await startCameraSim({ frames: clipFrames, fps: 30 });
      try {
        const src = new SnapshotSource(`${sim.url}/snapshot.jpg`, 20);
        const got = await frames(src, 3);
        src.stop();
        assert.equal(got.length, 3);
        assert.match((await errorOf(new SnapshotSource(`${sim.url}/nope`, 20))).message, /404/);
      } finally {
        await sim.close();
      }
    });

    it('file source: raw MJPEG and multipart files, a JPEG directory, looped', async () => {
      const t = tempDir();
      try {
        const clipFrames = (await clip('moving')).slice(0, 3);
        const raw = path.join(t.dir, 'clip.mjpeg');
        fs.writeFileSync(raw, Buffer.concat(clipFrames));
        const a = new FileSource(raw, { playbackFps: 200 });
        const got = await frames(a, 7);
        a.stop();
        assert.deepEqual(got.map((f) => clipFrames.findIndex((c) => c.equals(f))), [0, 1, 2, 0, 1, 2, 0]);
        const mp = path.join(t.dir, 'clip.multipart');
        fs.writeFileSync(mp, Buffer.concat(clipFrames.flatMap((f) => [Buffer.from('--b\r\nContent-Type: image/jpeg\r\n\r\n'), f, Buffer.from('\r\n')])));
        const b = new FileSource(mp, { playbackFps: 200 });
        assert.equal((await frames(b, 4)).length, 4);
        b.stop();
        const dir = path.join(t.dir, 'seq');
        fs.mkdirSync(dir);
        clipFrames.forEach((f, i) => fs.writeFileSync(path.join(dir, `f${i}.jpg`), f));
        const c = new FileSource(dir, { playbackFps: 200 });
        assert.deepEqual((await frames(c, 3)).map((f) => clipFrames.findIndex((x) => x.equals(f))), [0, 1, 2]);
        c.stop();
        assert.match((await errorOf(new FileSource(path.join(t.dir, 'missing.mjpeg')))).message, /ENOENT/);
      } finally {
        t.cleanup();
      }
    });

    it('ffmpeg missing: a clear error naming apt-get install ffmpeg', async () => {
      const err = await errorOf(new FfmpegSource('rtsp://camera/stream', { bin: '/nonexistent/ffmpeg' }));
      assert.ok(err instanceof FfmpegMissingError);
      assert.match(err.message, /apt-get install ffmpeg/);
      assert.deepEqual(ffmpegArgs('rtsp://cam/s').slice(4, 6), ['-rtsp_transport', 'tcp']);
    });

    it('ffmpeg on a generated video file: JPEG frames on the pipe; killed on stop', async function () {
      const t = tempDir();
      try {
        const video = videoFile(t.dir, (await clip('moving')).slice(0, 30));
        const src = new FfmpegSource(video, { fps: 0 });
        const got = await frames(src, 5);
        assert.ok(got.every((f) => f[0] === 0xff && f[1] === 0xd8 && f[f.length - 1] === 0xd9));
        const pid = src.pid!;
        assert.ok(pid > 0);
        src.stop();
        await src.whenStopped();
        assert.throws(() => process.kill(pid, 0), 'ffmpeg has exited when whenStopped resolves');
        // A file source on a video goes through ffmpeg, looped.
        const fsrc = new FileSource(video, {});
        assert.equal((await frames(fsrc, 3)).length, 3);
        fsrc.stop();
      } finally {
        t.cleanup();
      }
    });
  });
});
