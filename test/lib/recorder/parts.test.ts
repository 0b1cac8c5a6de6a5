import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { findFfmpeg } from '../../../lib/common/ffmpeg';
import { AviWriter, parseAviHeader } from '../../../lib/recorder/avi';
import { FrameGrid } from '../../../lib/recorder/grid';
import { hasH264, mp4Args, Mp4Writer, readMp4Info } from '../../../lib/recorder/mp4';
import { clipFormat, clipName, clipStart, isClipName, isTempName, localStamp, nameLabel, tempName } from '../../../lib/recorder/naming';
import { FrameRing } from '../../../lib/recorder/ring';
import { clip, eachTestInTempDir } from '../../helpers/clips';
import { ffprobe, type Probe } from '../../helpers/ffprobe';

describe('recorder parts', function () {
  describe('FrameRing', function () {
    it('keeps frames by age and by bytes, oldest dropped first, never copied', function () {
      const ring = new FrameRing({ maxAgeMs: 1000, maxBytes: 1000 });
      const frames = Array.from({ length: 30 }, (_, i) => Buffer.alloc(100, i));
      frames.slice(0, 5).forEach((f, i) => ring.push(f, i * 100));
      assert.equal(ring.length, 5);
      assert.equal(ring.bytes, 500);
      // the very Buffers come back
      assert.equal(ring.since(0)[0].jpeg, frames[0]);
      // age: at t=2000 only frames of the last second stay
      ring.push(frames[5], 2000);
      assert.deepEqual(
        ring.since(0).map((f) => f.t),
        [2000],
      );
      assert.equal(ring.byteCapped, false);
      // bytes: 10 × 100 fits exactly, the 11th pushes the oldest out
      for (let i = 1; i <= 10; i++) ring.push(frames[5 + i], 2000 + i * 10);
      assert.equal(ring.bytes, 1000);
      assert.equal(ring.length, 10);
      assert.equal(ring.byteCapped, true);
      assert.equal(ring.since(0)[0].t, 2010);
    });

    it('measures the frame rate over the recent frames', function () {
      const ring = new FrameRing({ maxAgeMs: 60_000, maxBytes: 1e9 });
      assert.equal(ring.rate(7), 7);
      for (let i = 0; i < 100; i++) ring.push(Buffer.alloc(1), i * 66.667);
      assert.ok(Math.abs(ring.rate(7) - 15) < 0.05, String(ring.rate(7)));
    });

    it('stays compact over many frames', function () {
      const ring = new FrameRing({ maxAgeMs: 1000, maxBytes: 1e9 });
      for (let i = 0; i < 50_000; i++) ring.push(Buffer.alloc(1), i * 10);
      assert.equal(ring.length, 101);
    });
  });

  describe('naming', function () {
    it('names by local date-time and system, sortable, never colliding', function () {
      const t = new Date(2026, 11, 6, 3, 12, 9, 500).getTime();
      const taken = new Set<string>();
      const a = clipName(t, 'front-door', 'mp4', (n) => taken.has(n));
      assert.equal(a, '2026-12-06T03-12-09_front-door.mp4');
      taken.add(a);
      const b = clipName(t, 'front-door', 'mp4', (n) => taken.has(n));
      assert.equal(b, '2026-12-06T03-12-09_front-door_02.mp4');
      taken.add(b);
      const c = clipName(t + 1000, 'front-door', 'mp4', (n) => taken.has(n));
      assert.deepEqual([c, b, a].sort(), [a, b, c]);
      for (const n of [a, b, c]) assert.ok(isClipName(n), n);
      assert.equal(clipStart(a), new Date(2026, 11, 6, 3, 12, 9).getTime());
      assert.equal(clipFormat(b), 'mp4');
      assert.equal(localStamp(t), '2026-12-06T03-12-09');
    });

    it('reduces a system name to a safe label', function () {
      assert.equal(nameLabel('Room 12 / Ward B'), 'Room-12-Ward-B');
      assert.equal(nameLabel('../../etc'), 'etc');
      assert.equal(nameLabel('a_b'), 'a-b');
      assert.equal(nameLabel('Ž€'), 'Z');
      assert.equal(nameLabel(''), '');
      assert.equal(nameLabel('x'.repeat(80)).length, 40);
    });

    it('accepts only its own names', function () {
      for (const bad of ['../x.mp4', '2026-12-06T03-12-09_a.mp4.part', '.2026-12-06T03-12-09_a.mp4.part', '2026-12-06T03-12-09_a.mkv', '2026-12-06T03-12-09_a b.mp4', 'x.mp4', '2026-12-06T03-12-09_a/b.mp4']) {
        assert.equal(isClipName(bad), false, bad);
      }
      assert.ok(isTempName(tempName('2026-12-06T03-12-09_a.mp4')));
      assert.equal(isTempName('.other.part'), false);
    });
  });

  describe('FrameGrid', function () {
    it('places irregular frames on a constant-rate grid: frames = duration × rate', function () {
      const out: Buffer[] = [];
      const g = new FrameGrid(10, (b) => out.push(b));
      const a = Buffer.from('a');
      const b = Buffer.from('b');
      const c = Buffer.from('c');
      g.push(a, 1000);
      g.push(b, 1250); // a fills slots 1000, 1100, 1200
      g.push(c, 1260); // b is current at no slot boundary → skipped
      g.close(1600, 5000); // c fills 1300, 1400, 1500
      assert.deepEqual(
        out.map((x) => x.toString()),
        ['a', 'a', 'a', 'c', 'c', 'c'],
      );
      assert.equal(g.frames, 6);
      assert.equal(g.start, 1000);
      assert.equal(g.end, 1600);
      assert.equal(out[0], a); // the same Buffer, repeated
    });

    it('does not show a stopped camera as a frozen picture for the rest of the clip', function () {
      const out: Buffer[] = [];
      const g = new FrameGrid(10, (b) => out.push(b));
      g.push(Buffer.from('a'), 0);
      g.close(10_000, 2000);
      assert.equal(out.length, 20);
    });

    it('shows the newest frame at least once', function () {
      const out: Buffer[] = [];
      const g = new FrameGrid(10, (b) => out.push(b));
      g.push(Buffer.from('a'), 0);
      g.push(Buffer.from('b'), 50);
      g.close(50, 2000);
      assert.deepEqual(
        out.map((x) => x.toString()),
        ['a', 'b'],
      );
    });
  });

  describe('writers (checked with ffprobe)', function () {
    /** ffprobe reads `want` from the file, its duration within `toleranceS`. */
    async function probeAgrees(file: string, want: Partial<Probe> & { durationS: number }, toleranceS: number): Promise<Probe> {
      const p = await ffprobe(file);
      const { durationS, ...exact } = want;
      assert.deepEqual(Object.fromEntries(Object.keys(exact).map((k) => [k, p[k as keyof Probe]])), exact);
      assert.ok(Math.abs(p.durationS - durationS) < toleranceS, `ffprobe duration ${p.durationS}, expected ${durationS}`);
      return p;
    }
    this.timeout(60_000);
    let dir: string;
    eachTestInTempDir('vigil-rec-', (d) => (dir = d));

    it('AVI: MJPEG frames as they are, with an index; ffprobe reads duration and frame count', async function () {
      const frames = await clip('moving', { width: 320, height: 240, frames: 45 });
      const file = path.join(dir, 'a.avi');
      const w = new AviWriter({ path: file, rate: 15 });
      for (const f of frames) assert.equal(w.write(f), true);
      const r = await w.finish();
      assert.equal(r.frames, 45);
      assert.equal(r.bytes, fs.statSync(file).size);
      await probeAgrees(file, { formatName: 'avi', codec: 'mjpeg', width: 320, height: 240, frames: 45, durationS: 3 }, 0.01);
      const head = Buffer.alloc(4096);
      const fd = fs.openSync(file, 'r');
      fs.readSync(fd, head, 0, 4096, 0);
      fs.closeSync(fd);
      assert.deepEqual(parseAviHeader(head), { durationS: 3, frames: 45, width: 320, height: 240 });
      // the frames are stored byte for byte
      assert.ok(fs.readFileSync(file).includes(frames[7]));
    });

    it('AVI: a fractional measured rate (12.34 fps) is kept', async function () {
      const frames = await clip('still', { width: 160, height: 120, frames: 10 });
      const file = path.join(dir, 'r.avi');
      const w = new AviWriter({ path: file, rate: 12.34 });
      for (const f of frames) w.write(f);
      await w.finish();
      await probeAgrees(file, { frames: 10, durationS: 10 / 12.34 }, 0.01);
    });

    it('AVI: an unwritable path fails with the reason, never throws into write()', async function () {
      const blocker = path.join(dir, 'file');
      fs.writeFileSync(blocker, 'x');
      let failed: Error | undefined;
      const w = new AviWriter({ path: path.join(blocker, 'a.avi'), rate: 10, onFailure: (e) => (failed = e) });
      const frames = await clip('still', { width: 160, height: 120, frames: 3 });
      w.write(frames[0]);
      await assert.rejects(w.finish(), /ENOTDIR/);
      assert.match(String(failed?.message), /ENOTDIR/);
      assert.equal(w.write(frames[1]), false);
    });

    it('AVI: frames beyond the queue cap are dropped and counted, not held', async function () {
      const frames = await clip('still', { width: 160, height: 120, frames: 3 });
      const w = new AviWriter({ path: path.join(dir, 'q.avi'), rate: 10, maxQueuedBytes: frames[0].length * 2 + 1 });
      // the first batch leaves the queue at once; the rest pile up within one turn of the loop
      const results = Array.from({ length: 10 }, (_, i) => w.write(frames[i % 3]));
      assert.ok(results.includes(false));
      const r = await w.finish();
      assert.equal(r.frames + r.dropped, 10);
      assert.ok(r.dropped > 0);
    });

    it('MP4: H.264 yuv420p at even dimensions, +faststart, one thread; ffprobe agrees', async function () {
      const ffmpeg = findFfmpeg().path;
      assert.equal(await hasH264(ffmpeg), true);
      const args = mp4Args(15, '/x.mp4');
      for (const a of ['libx264', 'veryfast', '+faststart', 'yuv420p']) assert.ok(args.join(' ').includes(a), a);
      // odd dimensions are made even
      const frames = await clip('moving', { width: 321, height: 241, frames: 30 });
      const file = path.join(dir, 'a.mp4');
      const w = new Mp4Writer({ path: file, rate: 15, ffmpeg });
      for (const f of frames) w.write(f);
      const r = await w.finish();
      assert.equal(r.frames, 30);
      assert.equal(r.bytes, fs.statSync(file).size);
      const p = await probeAgrees(file, { codec: 'h264', pixFmt: 'yuv420p', width: 320, height: 240, frames: 30, durationS: 2 }, 0.1);
      assert.match(p.formatName, /mp4/);
      const info = await readMp4Info(file);
      assert.ok(info && Math.abs(info.durationS - 2) < 0.1 && info.frames === 30 && info.width === 320, JSON.stringify(info));
      // faststart: the index comes before the media data
      const buf = fs.readFileSync(file);
      assert.ok(buf.indexOf('moov') < buf.indexOf('mdat'));
    });

    it('MP4: a missing ffmpeg is a failure with the reason', async function () {
      let failed: Error | undefined;
      const w = new Mp4Writer({ path: path.join(dir, 'x.mp4'), rate: 10, ffmpeg: path.join(dir, 'no-ffmpeg'), onFailure: (e) => (failed = e) });
      const frames = await clip('still', { width: 160, height: 120, frames: 2 });
      w.write(frames[0]);
      await assert.rejects(w.finish(), /ffmpeg could not be started/);
      assert.ok(failed);
      assert.equal(await hasH264(path.join(dir, 'no-ffmpeg')), false);
    });

    it('MP4: an encoder that dies mid-clip is reported at once', async function () {
      const ffmpeg = findFfmpeg().path;
      let failed: Error | undefined;
      const w = new Mp4Writer({ path: path.join(dir, 'k.mp4'), rate: 10, ffmpeg, onFailure: (e) => (failed = e) });
      const frames = await clip('still', { width: 160, height: 120, frames: 2 });
      w.write(frames[0]);
      // the encoder dies (as on a full disk or a crash) while the clip is still being recorded
      (w as unknown as { child: { kill(s: string): void } }).child.kill('SIGKILL');
      // Real time: a child process's death is seen by polling; no clock can stand in for the OS.
      for (let i = 0; i < 100 && !failed; i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(String(failed?.message), /ffmpeg failed.*SIGKILL/);
      await assert.rejects(w.finish());
    });
  });
});
