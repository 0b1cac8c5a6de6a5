#!/usr/bin/env node
// Build: tsc (incremental) into dist/, then put every node's .html, locales/ and the
// package icons beside its compiled .js (where Node-RED looks for them), copy non-TS
// assets of lib/ and bin/, and keep package.json's `node-red.nodes` and `bin` in step
// with the nodes/ and bin/ folders (one node set per node folder).
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

function log(s) {
  if (!process.env.VIGIL_QUIET) console.log(`[vigil build] ${s}`);
}

function copyTree(src, dst, filter) {
  if (!fs.existsSync(src)) return;
  const st = fs.statSync(src);
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(src)) copyTree(path.join(src, e), path.join(dst, e), filter);
  } else if (!filter || filter(src)) {
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    const dstStat = fs.existsSync(dst) ? fs.statSync(dst) : null;
    if (!dstStat || dstStat.mtimeMs < st.mtimeMs || dstStat.size !== st.size) fs.copyFileSync(src, dst);
  }
}

function syncPackageJson() {
  const pkgPath = path.join(root, 'package.json');
  const text = fs.readFileSync(pkgPath, 'utf8');
  const pkg = JSON.parse(text);
  const nodes = {};
  const nodesDir = path.join(root, 'nodes');
  for (const t of fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir).sort() : []) {
    if (fs.existsSync(path.join(nodesDir, t, `${t}.ts`))) nodes[t] = `dist/nodes/${t}/${t}.js`;
  }
  const bin = {};
  const binDir = path.join(root, 'bin');
  for (const f of fs.existsSync(binDir) ? fs.readdirSync(binDir).sort() : []) {
    if (f.endsWith('.ts') && !f.startsWith('_')) bin[f.slice(0, -3)] = `dist/bin/${f.slice(0, -3)}.js`;
  }
  pkg['node-red'] = pkg['node-red'] || {};
  const changed = JSON.stringify(pkg['node-red'].nodes) !== JSON.stringify(nodes) || JSON.stringify(pkg.bin) !== JSON.stringify(bin);
  if (changed) {
    pkg['node-red'].nodes = nodes;
    pkg.bin = bin;
    fs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
    log('package.json: node-red.nodes and bin updated from nodes/ and bin/');
  }
}

function main() {
  syncPackageJson();
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) {
    console.error('[vigil build] TypeScript is not installed: run `npm install` (or `npm start`, which installs what is missing).');
    process.exit(1);
  }
  log('compiling TypeScript (incremental)…');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
  const notTs = (f) => !f.endsWith('.ts');
  for (const dir of ['lib', 'bin', 'test', 'bench']) copyTree(path.join(root, dir), path.join(dist, dir), notTs);
  const nodesDir = path.join(root, 'nodes');
  for (const t of fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir) : []) {
    const src = path.join(nodesDir, t);
    if (!fs.statSync(src).isDirectory()) continue;
    copyTree(src, path.join(dist, 'nodes', t), notTs);
    copyTree(path.join(root, 'icons'), path.join(dist, 'nodes', t, 'icons'));
  }
  const binOut = path.join(dist, 'bin');
  for (const f of fs.existsSync(binOut) ? fs.readdirSync(binOut) : []) {
    if (f.endsWith('.js')) fs.chmodSync(path.join(binOut, f), 0o755);
  }
  if (r.status !== 0) {
    console.error('[vigil build] TypeScript reported errors (see above); files were still emitted.');
    process.exit(r.status || 1);
  }
  log('done');
}

main();
