#!/usr/bin/env node
// First-run setup, safe to run any time: installs the npm dependencies when they are
// missing or out of date, builds the optional OpenCV engine when the system OpenCV is
// there (saying so, with progress), and compiles the TypeScript. Says what it is doing.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const nm = path.join(root, 'node_modules');
const stampFile = path.join(nm, '.vigil-install-stamp');
const opencvTried = path.join(nm, '.vigil-opencv-attempted');
const opencvBinding = path.join(nm, '@u4', 'opencv4nodejs', 'build', 'Release', 'opencv4nodejs.node');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function say(s) {
  console.log(`[vigil setup] ${s}`);
}

function installStamp() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const h = crypto.createHash('sha256');
  for (const k of ['dependencies', 'devDependencies', 'optionalDependencies', 'allowScripts']) h.update(JSON.stringify(pkg[k] || {}));
  const lock = path.join(root, 'package-lock.json');
  if (fs.existsSync(lock)) h.update(fs.readFileSync(lock));
  return h.digest('hex');
}

function systemOpenCv() {
  const r = spawnSync('pkg-config', ['--modversion', 'opencv4'], { encoding: 'utf8' });
  if (r.status === 0) return r.stdout.trim();
  return fs.existsSync('/usr/include/opencv4/opencv2/core.hpp') ? 'unknown version' : null;
}

function npmRun(args, foreground) {
  const env = { ...process.env, OPENCV4NODEJS_DISABLE_AUTOBUILD: '1', JOBS: process.env.JOBS || 'max' };
  const full = foreground ? [...args, '--foreground-scripts'] : args;
  say(`running: npm ${full.join(' ')}`);
  const r = spawnSync(npm, full, { cwd: root, stdio: 'inherit', env });
  return r.status === 0;
}

function ensureInstalled() {
  const fresh = !fs.existsSync(path.join(nm, '.package-lock.json'));
  const stamp = installStamp();
  const current = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8') : '';
  const cv = process.env.VIGIL_SKIP_OPENCV ? null : systemOpenCv();
  const wantOpenCv = cv !== null && !fs.existsSync(opencvBinding);
  if (!fresh && current === stamp && !(wantOpenCv && !fs.existsSync(opencvTried))) return;

  if (cv === null) {
    say('System OpenCV not found: the motion detector will use its sharp engine (works everywhere, slower).');
    say('  For the faster OpenCV engine: sudo apt-get install -y libopencv-dev && npm run setup');
  } else if (wantOpenCv) {
    say(`System OpenCV ${cv} found: building the OpenCV motion engine (@u4/opencv4nodejs).`);
    say('  This compiles C++ for about 6–11 minutes on 2 cores; the compiler lines below are its progress.');
  }
  // Dependencies in step but the OpenCV engine never built (the system OpenCV came later):
  // rebuild just that package. A whole `npm install` here would rewrite package-lock.json.
  const onlyOpenCv = !fresh && current === stamp;
  const args = onlyOpenCv
    ? ['rebuild', '@u4/opencv4nodejs']
    : [fresh && fs.existsSync(path.join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund'];
  const ok = npmRun(args, wantOpenCv);
  if (!ok && !onlyOpenCv) {
    say('npm install failed (see above).');
    process.exit(1);
  }
  if (wantOpenCv) {
    fs.writeFileSync(opencvTried, new Date().toISOString());
    say(fs.existsSync(opencvBinding) ? 'OpenCV engine built.' : 'The OpenCV engine did not build; the sharp engine will be used (see the compiler output above).');
  }
  fs.writeFileSync(stampFile, installStamp()); // after the install: npm may have rewritten the lock file
}

function build() {
  say('compiling TypeScript…');
  const r = spawnSync(process.execPath, [path.join(__dirname, 'build.js')], { cwd: root, stdio: 'inherit', env: { ...process.env, VIGIL_QUIET: '1' } });
  if (r.status !== 0) process.exit(r.status || 1);
}

function setup() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    console.error(`[vigil setup] Node.js ${process.versions.node} is too old: Vigil needs Node.js 20 or newer.`);
    process.exit(1);
  }
  ensureInstalled();
  build();
}

module.exports = { setup };
if (require.main === module) setup();
