import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FakeClock } from '../../../lib/common/clock';
import { findFfmpeg } from '../../../lib/common/ffmpeg';
import { Recorder, type AlarmOutcome, type ClipResult, type RecorderOptions } from '../../../lib/recorder/recorder';
import { ClipFolder } from '../../../lib/recorder/store';
import { clip, eachTestInTempDir } from '../../helpers/clips';
import { ffprobe } from '../../helpers/ffprobe';

const T0 = new Date(2026, 11, 6, 3, 0, 0).getTime();

interface Rig {
  rec: Recorder;
  clock: FakeClock;
  clips: ClipResult[];
  errors: Error[];
  warnings: string[];
  frames: Buffer[];
  /** Feed `seconds` of frames at `fps`, advancing the clock between them. */
  feed(seconds: number, fps?: number): void;
  /** `before` seconds of frames, an alarm, `after` seconds of frames; the alarm's outcome. */
  alarmBetween(before: number, after: number): AlarmOutcome;
}

describe('Recorder', function () {
  this.timeout(60_000);
  let dir: string;
  const open: Recorder[] = [];
  let frames: Buffer[];

  before(async function () {
    frames = await clip('moving', { width: 320, height: 240, frames: 60 });
  });
  afterEach(async function () {
    for (const r of open.splice(0)) await r.close(0);
  });
  eachTestInTempDir('vigil-rec-', (d) => (dir = d)); // removed after the recorders closed

  function rig(o: Partial<RecorderOptions> = {}): Rig {
    const clock = new FakeClock(T0);
    const rec = new Recorder({ folder: dir, label: 'ward-b', preSeconds: 3, postSeconds: 2, format: 'avi', clock, ...o });
    open.push(rec);
    const r: Rig = {
      rec,
      clock,
      clips: [],
      errors: [],
      warnings: [],
      frames,
      feed(seconds, fps = 10) {
        const n = Math.round(seconds * fps);
        for (let i = 0; i < n; i++) {
          clock.advance(1000 / fps);
          rec.frame(frames[i % frames.length]);
        }
      },
      alarmBetween(before, after) {
        r.feed(before);
        const outcome = rec.alarm();
        r.feed(after);
        return outcome;
      },
    };
    rec.on('clip', (c: ClipResult) => r.clips.push(c));
    rec.on('error', (e: Error) => r.errors.push(e));
    rec.on('warn', (w: string) => r.warnings.push(w));
    return r;
  }

  const visible = (): string[] => fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort();

  for (const format of ['avi', 'mp4'] as const) {
    it(`${format}: a real alarm records pre + post seconds; ffprobe agrees on duration and frames`, async function () {
      const r = rig({ format, ffmpeg: findFfmpeg().path });
      await r.rec.start();
      assert.equal(r.rec.state.format, format);
      r.feed(6); // more than the 3 s pre-roll
      assert.equal(r.rec.alarm(), 'started');
      assert.equal(r.rec.state.phase, 'recording');
      r.feed(3); // past the 2 s tail
      await r.rec.idle();
      assert.deepEqual(r.errors, []);
      assert.equal(r.clips.length, 1);
      const c = r.clips[0];
      assert.equal(c.format, format);
      assert.equal(c.name, `2026-12-06T03-00-03_ward-b.${format}`);
      assert.equal(c.alarmAt, T0 + 6000);
      assert.equal(c.start, T0 + 3000);
      assert.equal(c.end, T0 + 8000);
      assert.equal(c.frames, 50);
      assert.equal(c.durationS, 5);
      assert.equal(c.path, path.join(dir, c.name));
      assert.equal(c.bytes, fs.statSync(c.path).size);
      const p = await ffprobe(c.path);
      assert.ok(Math.abs(p.durationS - 5) < 1, `ffprobe duration ${p.durationS}`);
      assert.equal(p.frames, c.frames);
      assert.equal(p.codec, format === 'mp4' ? 'h264' : 'mjpeg');
      assert.deepEqual(visible(), [c.name]);
      assert.equal(r.rec.state.phase, 'idle');
      // the store lists it, newest first, with the same facts
      const list = await r.rec.store.list();
      assert.deepEqual(list, [{ name: c.name, start: c.start, end: c.end, bytes: c.bytes, durationS: 5 }]);
    });
  }

  it('the same frame arriving twice (system and input) is kept once', async function () {
    // memory for exactly these 20 frames: kept twice, only the last 10 would fit
    const r = rig({ postSeconds: 0, maxBufferBytes: frames.slice(0, 20).reduce((n, f) => n + f.length, 0) });
    await r.rec.start();
    for (let i = 0; i < 20; i++) {
      r.clock.advance(100);
      r.rec.frame(frames[i]);
      r.rec.frame(frames[i]);
    }
    r.rec.alarm();
    r.clock.advance(1);
    await r.rec.idle();
    assert.equal(r.clips[0].frames, 20);
    assert.equal(r.clips[0].start, T0 + 100);
    assert.deepEqual(r.warnings, []);
  });

  it('a test alarm never records', async function () {
    const r = rig();
    await r.rec.start();
    r.feed(4);
    assert.equal(r.rec.alarm({ test: true }), 'ignored');
    r.feed(5);
    await r.rec.idle();
    assert.deepEqual(r.clips, []);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('a second alarm while recording extends the clip (one file, never an overwrite)', async function () {
    const r = rig({ postSeconds: 10 });
    await r.rec.start();
    assert.equal(r.alarmBetween(4, 8), 'started');
    assert.equal(r.rec.alarm(), 'extended');
    r.feed(12);
    await r.rec.idle();
    assert.equal(r.clips.length, 1);
    const c = r.clips[0];
    assert.equal(c.extendedBy, 1);
    // 3 s before the first alarm + 8 s + 10 s after the second
    assert.equal(c.durationS, 21);
    assert.equal((await ffprobe(c.path)).frames, 210);
  });

  it('two alarms 10 s apart with a 10 s tail: one extended clip or two distinct files, never an overwrite', async function () {
    const r = rig({ postSeconds: 10 });
    await r.rec.start();
    r.alarmBetween(4, 10);
    const second = r.rec.alarm();
    r.feed(12);
    await r.rec.idle();
    const names = r.clips.map((c) => c.name);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(visible(), [...names].sort());
    if (second === 'extended') assert.equal(r.clips.length, 1);
    else assert.equal(r.clips.length, 2);
    for (const c of r.clips) assert.equal((await ffprobe(c.path)).frames, c.frames);
  });

  it('clips starting in the same second get distinct names', async function () {
    const r = rig({ preSeconds: 0, postSeconds: 0.2 });
    await r.rec.start();
    r.alarmBetween(1, 0.3);
    await r.rec.idle();
    r.rec.alarm();
    r.feed(0.3);
    await r.rec.idle();
    assert.equal(r.clips.length, 2);
    assert.deepEqual(
      r.clips.map((c) => c.name),
      ['2026-12-06T03-00-01_ward-b.avi', '2026-12-06T03-00-01_ward-b_02.avi'],
    );
  });

  it('an alarm before start() settled is recorded once it has', async function () {
    const r = rig();
    r.feed(2);
    r.rec.alarm();
    const started = r.rec.start();
    r.feed(3);
    await started;
    await r.rec.idle();
    assert.equal(r.clips.length, 1);
    assert.equal(r.clips[0].durationS, 3.9); // from the first frame (0.1 s) to 2 s after the alarm
  });

  it('a clip longer than maxClipSeconds goes on in a new file', async function () {
    const r = rig({ postSeconds: 10, maxClipSeconds: 8, preSeconds: 1 });
    await r.rec.start();
    r.alarmBetween(2, 12);
    await r.rec.idle();
    assert.equal(r.clips.length, 2);
    assert.equal(r.clips[0].durationS, 8);
    assert.equal(r.clips[1].start, r.clips[0].end);
    assert.equal(r.clips[1].end, T0 + 12_000);
  });

  it('the pre-roll is bounded by memory, with a warning when it is shorter than asked', async function () {
    const r = rig({ preSeconds: 60, maxBufferBytes: frames[0].length * 20 });
    await r.rec.start();
    r.alarmBetween(5, 3);
    await r.rec.idle();
    assert.equal(r.clips.length, 1);
    assert.ok(r.clips[0].durationS < 5, String(r.clips[0].durationS));
    assert.match(r.warnings.join('\n'), /pre-alarm buffer holds only/);
  });

  it('no frames around an alarm: no file, a warning', async function () {
    const r = rig();
    await r.rec.start();
    r.rec.alarm();
    r.clock.advance(3000);
    await r.rec.idle();
    assert.deepEqual(r.clips, []);
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.match(r.warnings.join('\n'), /no camera frames/);
  });

  it('a stopped camera is not recorded as a frozen picture', async function () {
    const r = rig({ postSeconds: 20 });
    await r.rec.start();
    r.alarmBetween(4, 1);
    r.clock.advance(25_000); // the camera stops sending
    await r.rec.idle();
    assert.equal(r.clips.length, 1);
    // 3 s pre + 1 s + at most the 2 s hold
    assert.ok(r.clips[0].durationS <= 6.1, String(r.clips[0].durationS));
  });

  it('an unwritable folder: error state and event, alarm() never throws, no clip', async function () {
    const blocker = path.join(dir, 'not-a-folder');
    fs.writeFileSync(blocker, 'x');
    const r = rig({ folder: path.join(blocker, 'clips') });
    await r.rec.start();
    assert.equal(r.rec.state.phase, 'error');
    assert.match(String(r.rec.state.error), /cannot be written.*ENOTDIR/);
    assert.equal(r.alarmBetween(4, 3), 'started');
    await r.rec.idle();
    assert.deepEqual(r.clips, []);
    assert.ok(r.errors.length >= 2, r.errors.map((e) => e.message).join('\n'));
    assert.match(r.errors[r.errors.length - 1].message, /not recorded/);
    assert.equal(r.rec.state.phase, 'error');
    // fixed meanwhile: the next alarm's clip works and clears the error
    fs.unlinkSync(blocker);
    r.rec.alarm();
    r.feed(3);
    await r.rec.idle();
    assert.equal(r.clips.length, 1, r.errors.map((e) => e.message).join('\n'));
    assert.equal(r.rec.state.phase, 'idle');
  });

  for (const format of ['avi', 'mp4'] as const) {
    it(`${format}: a full disk: error state with the reason, the unfinished file removed, nothing listed`, async function () {
      // A real full file system: a tmpfs smaller than the clip (needs root and mount; skipped where not allowed).
      const mnt = path.join(dir, 'small');
      fs.mkdirSync(mnt);
      if (process.platform !== 'linux' || spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${format === 'avi' ? 128 : 16}k`, 'tmpfs', mnt]).status !== 0) this.skip();
      try {
        const r = rig({ folder: mnt, format, ffmpeg: findFfmpeg().path });
        await r.rec.start();
        assert.equal(r.rec.state.phase, 'idle');
        assert.equal(r.alarmBetween(4, 3), 'started');
        await r.rec.idle();
        assert.deepEqual(r.clips, []);
        assert.equal(r.rec.state.phase, 'error');
        assert.match(String(r.rec.state.error), /not recorded.*(ENOSPC|No space|disk full|ffmpeg failed)/i);
        assert.deepEqual(fs.readdirSync(mnt), []);
        assert.deepEqual(await r.rec.store.list(), []);
        await r.rec.close(0);
      } finally {
        spawnSync('umount', [mnt]);
      }
    });
  }

  it('mp4 asked but no ffmpeg: a warning and MJPEG-in-AVI, so no clip is lost', async function () {
    const r = rig({
      format: 'mp4',
      ffmpeg: async () => {
        throw new Error('ffmpeg not found: no ffmpeg on PATH');
      },
    });
    await r.rec.start();
    assert.equal(r.rec.state.format, 'avi');
    assert.match(String(r.rec.state.fallback), /not found/);
    assert.match(r.warnings.join('\n'), /format mp4: ffmpeg not found.*MJPEG-in-AVI/);
    r.alarmBetween(4, 3);
    await r.rec.idle();
    assert.equal(r.clips[0].format, 'avi');
  });

  it('close() during a clip keeps what was recorded; nothing half-written stays', async function () {
    const r = rig({ postSeconds: 30, format: 'mp4', ffmpeg: findFfmpeg().path });
    await r.rec.start();
    r.alarmBetween(4, 2);
    await r.rec.close();
    assert.equal(r.clips.length, 1);
    // 3 s before the alarm to the close, the frame that arrived at the close shown once
    assert.equal(r.clips[0].durationS, 5.1);
    assert.deepEqual(visible(), [r.clips[0].name]);
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.startsWith('.')),
      [],
    );
    assert.equal(r.clock.pending, 0);
  });

  it('leftover temporary files from a crash are removed at start; other files are left alone', async function () {
    fs.writeFileSync(path.join(dir, '.2026-12-05T01-00-00_ward-b.mp4.part'), 'half');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const r = rig();
    await r.rec.start();
    assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
  });
});

describe('ClipFolder retention and lookup', function () {
  let dir: string;
  eachTestInTempDir('vigil-rec-', (d) => (dir = d));

  function make(name: string, bytes: number, mtime: number): void {
    const p = path.join(dir, name);
    fs.writeFileSync(p, Buffer.alloc(bytes));
    fs.utimesSync(p, mtime / 1000, mtime / 1000);
  }

  it('deletes clips older than the maximum age, oldest first, and only clips', async function () {
    const now = T0;
    const clock = new FakeClock(now);
    const day = 86_400_000;
    make('2026-11-20T01-00-00_a.avi', 10, now - 16 * day);
    make('2026-11-28T01-00-00_a.mp4', 10, now - 8 * day);
    make('2026-12-01T01-00-00_a.mp4', 10, now - 5 * day);
    make('holiday.mp4', 10, now - 30 * day);
    const store = new ClipFolder({ folder: dir, clock, maxAgeMs: 7 * day });
    const r = await store.prune();
    assert.deepEqual(r.deleted, ['2026-11-20T01-00-00_a.avi', '2026-11-28T01-00-00_a.mp4']);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['2026-12-01T01-00-00_a.mp4', 'holiday.mp4']);
    // time passes on the clock
    clock.advance(3 * day);
    assert.deepEqual((await store.prune()).deleted, ['2026-12-01T01-00-00_a.mp4']);
  });

  it('keeps the folder within its quota, oldest first, never the newest', async function () {
    const clock = new FakeClock(T0);
    const mb = 1024 * 1024;
    make('2026-12-06T01-00-00_a.mp4', mb, T0 - 3000);
    make('2026-12-06T01-00-00_a_02.mp4', mb, T0 - 2000);
    make('2026-12-06T02-00-00_a.avi', mb, T0 - 1000);
    const store = new ClipFolder({ folder: dir, clock, quotaBytes: 2 * mb });
    const r = await store.prune();
    assert.deepEqual(r.deleted, ['2026-12-06T01-00-00_a.mp4']);
    assert.equal(r.bytes, 2 * mb);
    store.quotaBytes = mb / 2;
    const r2 = await store.prune();
    assert.deepEqual(r2.deleted, ['2026-12-06T01-00-00_a_02.mp4']);
    assert.match(String(r2.overQuota), /newest clip alone/);
    assert.deepEqual(fs.readdirSync(dir), ['2026-12-06T02-00-00_a.avi']);
  });

  it('publishing never overwrites: a name taken meanwhile is refused, the existing file kept', async function () {
    const store = new ClipFolder({ folder: dir });
    await store.prepare();
    const name = await store.reserve(T0, 'a', 'avi');
    assert.equal(await store.reserve(T0, 'a', 'avi'), name.replace('.avi', '_02.avi'), 'a reserved name is not given twice');
    fs.writeFileSync(store.tempPath(name), 'new');
    fs.writeFileSync(path.join(dir, name), 'someone else');
    await assert.rejects(store.commit(name, { start: T0, end: T0 }), /not overwritten/);
    assert.equal(fs.readFileSync(path.join(dir, name), 'utf8'), 'someone else');
  });

  it('serves only its own clip names, as plain files inside the folder', async function () {
    const store = new ClipFolder({ folder: dir });
    make('2026-12-06T01-00-00_a.mp4', 5, T0);
    fs.writeFileSync(path.join(path.dirname(dir), 'secret.mp4'), 'x');
    fs.symlinkSync('/etc/passwd', path.join(dir, '2026-12-06T01-00-01_a.mp4'));
    assert.equal((await store.file('2026-12-06T01-00-00_a.mp4'))?.bytes, 5);
    for (const bad of ['../secret.mp4', '..', '', '2026-12-06T01-00-01_a.mp4', '/etc/passwd', '2026-12-06T01-00-00_a.mp4/..', '.2026-12-06T01-00-00_a.mp4.part']) {
      assert.equal(await store.file(bad), undefined, bad);
    }
    assert.deepEqual(
      (await store.list()).map((c) => c.name),
      ['2026-12-06T01-00-00_a.mp4'],
    );
    fs.unlinkSync(path.join(path.dirname(dir), 'secret.mp4'));
  });
});
