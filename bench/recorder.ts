/**
 * Recorder cost: a 640×480 camera at 15 fps (generated frames with realistic detail, about
 * the size of a real camera's JPEGs) feeds a Recorder on the real clock, in one run:
 *  - not recording (the pre-alarm ring only: the baseline),
 *  - recording MJPEG-in-AVI (written by Node, no encoder),
 *  - recording MP4/H.264 (an ffmpeg child, veryfast, one thread, lower priority),
 * each for the same stretch of camera time. Reported per case: CPU of this process and of its
 * (reaped) children as % of one core over the stretch plus the time the clip took to finish,
 * the event-loop delay (p50 / p99 / max: how late a 1 ms timer ran) while frames flow, the clip's size, and how long
 * after the recording ended the file was complete.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generateClip } from '../lib/camera/testclips';
import { findFfmpeg } from '../lib/common/ffmpeg';
import { Recorder, type ClipResult, type RecorderFormat } from '../lib/recorder/recorder';

const FPS = 15;
const SECONDS = 15;
const PRE = 3;

/** CPU seconds of this process, and of its children that have exited (Linux /proc; 0 elsewhere). */
function cpu(): { self: number; children: number } {
  const u = process.cpuUsage();
  let children = 0;
  try {
    // fields after the command name: … (14) utime (15) stime (16) cutime (17) cstime, in clock ticks (USER_HZ = 100)
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    children = (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    children = 0;
  }
  return { self: (u.user + u.system) / 1e6, children };
}

interface Row {
  label: string;
  selfPct: number;
  childPct: number;
  p50: number;
  p99: number;
  max: number;
  clip?: ClipResult;
  finishMs?: number;
}

async function measure(label: string, frames: Buffer[], format: RecorderFormat | 'none', folder: string, ffmpeg?: string): Promise<Row> {
  const rec = new Recorder({ folder, label: 'bench', preSeconds: PRE, postSeconds: SECONDS, format: format === 'none' ? 'avi' : format, ffmpeg });
  await rec.start();
  let n = 0;
  const feed = setInterval(() => rec.frame(frames[n++ % frames.length]), 1000 / FPS);
  // fill the pre-alarm ring first
  await new Promise((r) => setTimeout(r, PRE * 1000));
  // 1 ms sampling; the figures below are how much later than that the sampling timer ran
  const h = monitorEventLoopDelay({ resolution: 1 });
  let clip: ClipResult | undefined;
  let clipAt = 0;
  const done = new Promise<void>((resolve) => {
    rec.once('clip', (c: ClipResult) => {
      clip = c;
      clipAt = Date.now();
      resolve();
    });
    rec.once('error', (e: Error) => {
      console.log(`  ${label}: ${e.message}`);
      resolve();
    });
  });
  const c0 = cpu();
  const t0 = Date.now();
  h.enable();
  if (format !== 'none') rec.alarm();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  h.disable();
  const recordedUntil = Date.now();
  if (format !== 'none') await done;
  clearInterval(feed);
  await rec.close();
  const c1 = cpu();
  const wall = (Date.now() - t0) / 1000;
  return {
    label,
    selfPct: ((c1.self - c0.self) / wall) * 100,
    childPct: ((c1.children - c0.children) / wall) * 100,
    p50: Math.max(0, h.percentile(50) / 1e6 - 1),
    p99: Math.max(0, h.percentile(99) / 1e6 - 1),
    max: Math.max(0, h.max / 1e6 - 1),
    clip,
    finishMs: clip ? clipAt - recordedUntil : undefined,
  };
}

export async function run(): Promise<void> {
  const frames = await generateClip('moving', { width: 640, height: 480, frames: 60, detail: 24 });
  const avgKb = frames.reduce((s, f) => s + f.length, 0) / frames.length / 1024;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-rec-'));
  let ffmpeg: string | undefined;
  try {
    ffmpeg = findFfmpeg().path;
  } catch (err) {
    console.log(`(no ffmpeg: ${err instanceof Error ? err.message : String(err)}; the MP4 row is skipped)`);
  }
  console.log(`camera: 640×480 at ${FPS} fps, JPEGs of ${avgKb.toFixed(0)} KB on average; ${SECONDS} s of camera time per case, ${PRE} s pre-roll; CPU as % of one core (of ${os.cpus().length})`);
  try {
    const rows: Row[] = [];
    rows.push(await measure('not recording (baseline)', frames, 'none', folder));
    rows.push(await measure('recording AVI (MJPEG)', frames, 'avi', folder));
    if (ffmpeg) rows.push(await measure('recording MP4 (H.264)', frames, 'mp4', folder, ffmpeg));
    for (const r of rows) {
      const clip = r.clip ? ` | clip ${r.clip.durationS.toFixed(1)} s, ${r.clip.frames} frames, ${(r.clip.bytes / 1048576).toFixed(1)} MB, complete ${r.finishMs} ms after recording ended` : '';
      console.log(
        `${r.label.padEnd(26)} CPU node ${r.selfPct.toFixed(1).padStart(5)} % + encoder ${r.childPct.toFixed(1).padStart(5)} % | event-loop delay p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms${clip}`,
      );
    }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
