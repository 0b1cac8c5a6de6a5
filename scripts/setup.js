#!/usr/bin/env node
// First-run setup, safe to run any time: installs the npm dependencies when they are
// missing or out of date (`npm ci`: exactly package-lock.json, which it never rewrites),
// builds the optional OpenCV engine when the system OpenCV is there (saying so, with
// progress), and compiles the TypeScript. Says what it is doing. It writes nothing that git
// tracks: when package.json and package-lock.json disagree it stops and says so.
//
// The OpenCV engine (@u4/opencv4nodejs) is compiled here and only here: package.json's
// `allowScripts` denies its install script, so `npm ci`/`npm install` never start the
// 10-minute compile. VIGIL_SKIP_OPENCV=1 skips it here too (every path: `npm start`,
// `npm test`, `npm run setup`).
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

/**
 * Whether node_modules already holds what package-lock.json pins (e.g. after the user's own
 * `npm ci`): every non-optional locked package installed at its locked version, per npm's
 * hidden lockfile node_modules/.package-lock.json.
 */
function installedMatchesLock() {
  try {
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')).packages;
    const have = JSON.parse(fs.readFileSync(path.join(nm, '.package-lock.json'), 'utf8')).packages;
    return Object.entries(lock).every(([k, v]) => k === '' || (have[k] ? have[k].version === v.version : !!v.optional));
  } catch {
    return false;
  }
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

function ensureInstalled(retryOpenCv) {
  const fresh = !fs.existsSync(path.join(nm, '.package-lock.json'));
  const stamp = installStamp();
  const current = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8') : '';
  const skip = !!process.env.VIGIL_SKIP_OPENCV && process.env.VIGIL_SKIP_OPENCV !== '0';
  const cv = skip ? null : systemOpenCv();
  if (fresh || current !== stamp) {
    // Whether or not anything needs installing: a lock that disagrees with package.json is
    // stopped here (an install would not carry the missing dependency either).
    const drift = require('./lint-package.js').lockProblems(root);
    if (drift.length) {
      console.error(`[vigil setup] package.json and package-lock.json disagree:\n  ${drift.join('\n  ')}`);
      console.error('[vigil setup] run `npm install` (it updates the lock), then commit both files.');
      process.exit(1);
    }
  }
  if (!fresh && current !== stamp && installedMatchesLock()) fs.writeFileSync(stampFile, stamp);
  else if (fresh || current !== stamp) {
    if (!npmRun(['ci', '--no-audit', '--no-fund'], false)) {
      say('npm ci failed (see above).');
      process.exit(1);
    }
    fs.writeFileSync(stampFile, installStamp());
  }
  if (skip) {
    if (!fs.existsSync(opencvBinding)) say('VIGIL_SKIP_OPENCV is set: the OpenCV engine is not built; the motion detector uses its sharp engine.');
    return;
  }
  if (cv === null) {
    if (!fs.existsSync(opencvTried)) {
      say('System OpenCV not found: the motion detector will use its sharp engine (works everywhere, slower).');
      say('  For the faster OpenCV engine: sudo apt-get install -y libopencv-dev && npm run setup');
      fs.writeFileSync(opencvTried, 'no system OpenCV');
    }
    return;
  }
  // A failed build is not retried on every start; `npm run setup` retries it.
  if (fs.existsSync(opencvBinding) || (!retryOpenCv && fs.existsSync(opencvTried) && fs.readFileSync(opencvTried, 'utf8') === cv)) return;
  if (!fs.existsSync(path.join(nm, '@u4', 'opencv4nodejs', 'binding.gyp'))) {
    say('@u4/opencv4nodejs is not installed (an optional dependency npm skipped): the sharp engine will be used.');
    return;
  }
  say(`System OpenCV ${cv} found: building the OpenCV motion engine (@u4/opencv4nodejs).`);
  say('  This compiles C++ for about 6–11 minutes on 2 cores; the compiler lines below are its progress.');
  say('  (VIGIL_SKIP_OPENCV=1 skips it; the sharp engine works everywhere.)');
  // The one place its install script runs: allowScripts denies it for npm ci/install.
  npmRun(['rebuild', '@u4/opencv4nodejs', '--dangerously-allow-all-scripts'], true);
  fs.writeFileSync(opencvTried, cv);
  say(fs.existsSync(opencvBinding) ? 'OpenCV engine built.' : 'The OpenCV engine did not build; the sharp engine will be used (see the compiler output above).');
}

function build() {
  say('compiling TypeScript…');
  const r = spawnSync(process.execPath, [path.join(__dirname, 'build.js')], { cwd: root, stdio: 'inherit', env: { ...process.env, VIGIL_QUIET: '1' } });
  if (r.status !== 0) process.exit(r.status || 1);
}

/** @param {{retryOpenCv?: boolean}} [o] retryOpenCv: build the OpenCV engine even after a failed try (`npm run setup`). */
function setup(o = {}) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    console.error(`[vigil setup] Node.js ${process.versions.node} is too old: Vigil needs Node.js 20 or newer.`);
    process.exit(1);
  }
  ensureInstalled(!!o.retryOpenCv);
  build();
}

module.exports = { setup };
if (require.main === module) setup({ retryOpenCv: true });
