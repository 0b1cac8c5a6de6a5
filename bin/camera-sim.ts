#!/usr/bin/env node
/**
 * camera-sim: an IP camera stand-in that serves a clip as MJPEG and snapshots.
 * Run `camera-sim --help` for the options.
 */
import fs from 'node:fs';
import { splitJpegs } from '../lib/camera/jpeg';
import { MjpegParser } from '../lib/camera/mjpeg';
import { startCameraSim } from '../lib/camera/sim';
import { CLIP_KINDS, ClipKind, generateClip } from '../lib/camera/testclips';
import { CliError, SERVER_AUTH_OPTIONS, authModeValue, intValue, portValue, runCli, stopOnSignals } from '../lib/common/cli';

const HELP = `camera-sim — an IP camera stand-in for vigil-camera (demos and tests)

Usage: camera-sim [options]

  --host <addr>          bind address (default 127.0.0.1)
  --port <n>             HTTP port (default 6030; 0 = any free port)
  --clip <kind>          a generated clip: ${CLIP_KINDS.join(', ')} (default moving)
  --file <path>          serve this MJPEG file instead (JPEGs back to back, or multipart)
  --width <px>           generated clip size (default 640×480)
  --height <px>
  --frames <n>           generated clip length in frames (default 60)
  --fps <n>              frames per second (default 15)
  --detail <n>           generated clip: fine texture amplitude, ± grey levels (default 0;
                         12 at quality 80 gives ~48 KiB 640×480 frames, like a real camera)
  --quality <n>          generated clip: JPEG quality 1–100 (default 80)
  --phases <n>           spread stream clients over n instants of each frame interval, as
                         independent cameras would be (default 1: all at once)
  --auth <mode>          none (default), basic, digest or any
  --username <name>      for --auth (default admin)
  --password <secret>    for --auth (default admin)
  --no-content-length    leave Content-Length out of the multipart parts
  --quiet                no log lines
  -h, --help             this text

Routes:
  GET /stream.mjpg       multipart/x-mixed-replace MJPEG, the clip looped
                         (also /video.mjpeg, /video.mjpg and /); any number of
                         clients, each frame encoded once and sent to all
  GET /snapshot.jpg      the current frame as one JPEG (also /snapshot)

Example:
  camera-sim --port 6030 --clip moving &
  curl -s http://127.0.0.1:6030/snapshot.jpg > frame.jpg
`;


const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  clip: { type: 'string' },
  file: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  frames: { type: 'string' },
  fps: { type: 'string' },
  detail: { type: 'string' },
  quality: { type: 'string' },
  phases: { type: 'string' },
  ...SERVER_AUTH_OPTIONS,
  'no-content-length': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

runCli('camera-sim', HELP, OPTIONS, async (v) => {
  if (v.clip !== undefined && !(CLIP_KINDS as readonly string[]).includes(v.clip)) throw new CliError(`--clip must be one of ${CLIP_KINDS.join(', ')}`);
  const auth = authModeValue(v.auth);
  const o = {
    host: v.host ?? '127.0.0.1',
    port: portValue(v.port, '--port') ?? 6030,
    clip: (v.clip ?? 'moving') as ClipKind,
    file: v.file ?? '',
    width: intValue(v.width, '--width', 16, 7680) ?? 640,
    height: intValue(v.height, '--height', 16, 4320) ?? 480,
    frames: intValue(v.frames, '--frames', 1, 10000) ?? 60,
    fps: intValue(v.fps, '--fps', 1, 120) ?? 15,
    detail: intValue(v.detail, '--detail', 0, 64) ?? 0,
    quality: intValue(v.quality, '--quality', 1, 100) ?? 80,
    phases: intValue(v.phases, '--phases', 1, 64) ?? 1,
    auth,
    username: v.username ?? 'admin',
    password: v.password ?? 'admin',
    noContentLength: v['no-content-length'] === true,
    quiet: v.quiet === true,
  };
  let frames: Buffer[];
  if (o.file) {
    let data: Buffer;
    try {
      data = fs.readFileSync(o.file);
    } catch (err) {
      throw new CliError(`cannot read ${o.file}: ${(err as Error).message}`);
    }
    frames = splitJpegs(data);
    if (frames.length === 0) {
      const parser = new MjpegParser({ onFrame: (f) => frames.push(f) });
      parser.push(data);
      parser.end();
    }
    if (frames.length === 0) throw new CliError(`no JPEG frames in ${o.file}`);
  } else {
    frames = await generateClip(o.clip, { width: o.width, height: o.height, frames: o.frames, detail: o.detail, quality: o.quality });
  }
  const sim = await startCameraSim({ frames, fps: o.fps, host: o.host, port: o.port, auth: o.auth, username: o.username, password: o.password, noContentLength: o.noContentLength, phases: o.phases });
  if (!o.quiet) {
    process.stdout.write(`camera-sim: ${frames.length} frames (${o.file || `clip ${o.clip}`}) at ${o.fps} fps on ${sim.url}/stream.mjpg and ${sim.url}/snapshot.jpg${o.auth !== 'none' ? ` (${o.auth} auth)` : ''}\n`);
  }
  stopOnSignals(() => sim.close());
});
