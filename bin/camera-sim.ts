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
import type { ServerAuthMode } from '../lib/halo/digest';

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
  --auth <mode>          none (default), basic, digest or any
  --username <name>      for --auth (default admin)
  --password <secret>    for --auth (default admin)
  --no-content-length    leave Content-Length out of the multipart parts
  --quiet                no log lines
  -h, --help             this text

Routes:
  GET /stream.mjpg       multipart/x-mixed-replace MJPEG, the clip looped
                         (also /video.mjpeg, /video.mjpg and /)
  GET /snapshot.jpg      the current frame as one JPEG (also /snapshot)

Example:
  camera-sim --port 6030 --clip moving &
  curl -s http://127.0.0.1:6030/snapshot.jpg > frame.jpg
`;

function fail(msg: string): never {
  process.stderr.write(`camera-sim: ${msg}\n(see camera-sim --help)\n`);
  process.exit(2);
}

function intArg(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min || n > max) fail(`${name} needs a whole number from ${min} to ${max}`);
  return n;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = { host: '127.0.0.1', port: 6030, clip: 'moving' as ClipKind, file: '', width: 640, height: 480, frames: 60, fps: 15, auth: 'none' as ServerAuthMode, username: 'admin', password: 'admin', noContentLength: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string | undefined => argv[++i];
    switch (a) {
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        return;
      case '--host':
        o.host = next() ?? fail('--host needs an address');
        break;
      case '--port':
        o.port = intArg('--port', next(), 0, 65535);
        break;
      case '--clip': {
        const k = next();
        if (!k || !(CLIP_KINDS as readonly string[]).includes(k)) fail(`--clip must be one of ${CLIP_KINDS.join(', ')}`);
        o.clip = k as ClipKind;
        break;
      }
      case '--file':
        o.file = next() ?? fail('--file needs a path');
        break;
      case '--width':
        o.width = intArg('--width', next(), 16, 7680);
        break;
      case '--height':
        o.height = intArg('--height', next(), 16, 4320);
        break;
      case '--frames':
        o.frames = intArg('--frames', next(), 1, 10000);
        break;
      case '--fps':
        o.fps = intArg('--fps', next(), 1, 120);
        break;
      case '--auth': {
        const m = next();
        if (!m || !['none', 'basic', 'digest', 'any'].includes(m)) fail('--auth must be none, basic, digest or any');
        o.auth = m as ServerAuthMode;
        break;
      }
      case '--username':
        o.username = next() ?? fail('--username needs a value');
        break;
      case '--password':
        o.password = next() ?? fail('--password needs a value');
        break;
      case '--no-content-length':
        o.noContentLength = true;
        break;
      case '--quiet':
        o.quiet = true;
        break;
      default:
        fail(`unknown option ${a}`);
    }
  }
  let frames: Buffer[];
  if (o.file) {
    let data: Buffer;
    try {
      data = fs.readFileSync(o.file);
    } catch (err) {
      fail(`cannot read ${o.file}: ${(err as Error).message}`);
    }
    frames = splitJpegs(data);
    if (frames.length === 0) {
      const parser = new MjpegParser({ onFrame: (f) => frames.push(f) });
      parser.push(data);
      parser.end();
    }
    if (frames.length === 0) fail(`no JPEG frames in ${o.file}`);
  } else {
    frames = await generateClip(o.clip, { width: o.width, height: o.height, frames: o.frames });
  }
  const sim = await startCameraSim({ frames, fps: o.fps, host: o.host, port: o.port, auth: o.auth, username: o.username, password: o.password, noContentLength: o.noContentLength });
  if (!o.quiet) {
    process.stdout.write(`camera-sim: ${frames.length} frames (${o.file || `clip ${o.clip}`}) at ${o.fps} fps on ${sim.url}/stream.mjpg and ${sim.url}/snapshot.jpg${o.auth !== 'none' ? ` (${o.auth} auth)` : ''}\n`);
  }
  const stop = (): void => {
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
