#!/usr/bin/env node
// Write the deterministic test clips (lib/camera/testclips.ts, generated with sharp) as MJPEG
// files: still (sensor noise only), moving (a slow 48×48 object), lighting (a global jump
// halfway), black (camera off). The tests, the benchmark and camera-sim generate the same
// clips in memory; this is for looking at them or feeding them to other tools.
//
//   node scripts/gen-clips.js [out-dir, default $TMPDIR/vigil-clips] [--width 640 --height 480 --frames 60 --detail 0]
//
// Needs a build (`node scripts/build.js`). ffmpeg can turn one into a video:
//   ffmpeg -f mjpeg -framerate 15 -i moving.mjpeg -c:v mpeg4 moving.avi
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
let clips;
try {
  clips = require(path.join(root, 'dist', 'lib', 'camera', 'testclips.js'));
} catch {
  console.error('gen-clips: build first (node scripts/build.js)');
  process.exit(1);
}

const args = process.argv.slice(2);
const opts = {};
let out = path.join(require('os').tmpdir(), 'vigil-clips');
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '-h' || a === '--help') {
    console.log('usage: node scripts/gen-clips.js [out-dir] [--width N] [--height N] [--frames N] [--detail N]');
    process.exit(0);
  } else if (/^--(width|height|frames|detail)$/.test(a)) {
    const n = Number(args[++i]);
    if (!Number.isInteger(n) || n < 0) {
      console.error(`gen-clips: ${a} needs a whole number`);
      process.exit(2);
    }
    opts[a.slice(2)] = n;
  } else if (a.startsWith('-')) {
    console.error(`gen-clips: unknown option ${a}`);
    process.exit(2);
  } else out = path.resolve(a);
}

(async () => {
  fs.mkdirSync(out, { recursive: true });
  for (const kind of clips.CLIP_KINDS) {
    const file = path.join(out, `${kind}.mjpeg`);
    const frames = await clips.writeClip(kind, file, opts);
    console.log(`${file}: ${frames.length} frames, ${fs.statSync(file).size} bytes`);
  }
})().catch((err) => {
  console.error(`gen-clips: ${err.message}`);
  process.exit(1);
});
