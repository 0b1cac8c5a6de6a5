#!/usr/bin/env node
// Build: tsc (incremental) into dist/, then put every node's .html and locales/ beside its
// compiled .js (where Node-RED looks for them), each icon once, in the icons/ folder of the
// node whose editor names it (Node-RED serves a module's icons from the icons/ folders beside
// its node files, all of them, per module), and copy non-TS assets of lib/ and bin/.
// It writes only under dist/: never a tracked file. When package.json's `node-red.nodes` or
// `bin` no longer match the nodes/ and bin/ folders it says so (so does `npm run lint:package`,
// which fails); the entries are written by hand.
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

/** The icon file names each node's editor names (`icon: 'vigil-x.svg'`), per node folder. */
function iconsByNode(nodesDir) {
  const { editorTypes } = require('./lint-package.js');
  const out = new Map();
  for (const t of fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir) : []) {
    const html = path.join(nodesDir, t, `${t}.html`);
    if (!fs.existsSync(html)) continue;
    const names = editorTypes(fs.readFileSync(html, 'utf8'))
      .map((e) => e.icon)
      .filter((i) => i && !i.startsWith('font-awesome/') && /\.(svg|png)$/.test(i));
    out.set(t, [...new Set(names)]);
  }
  return out;
}

/** Each icon of icons/ once, beside the node that uses it; stale copies (older builds) removed. */
function placeIcons(nodesDir) {
  const src = path.join(root, 'icons');
  const have = new Set(fs.existsSync(src) ? fs.readdirSync(src) : []);
  const placed = new Set();
  for (const [t, icons] of iconsByNode(nodesDir)) {
    const dst = path.join(dist, 'nodes', t, 'icons');
    const want = icons.filter((i) => have.has(i) && !placed.has(i));
    for (const i of want) {
      copyTree(path.join(src, i), path.join(dst, i));
      placed.add(i);
    }
    for (const f of fs.existsSync(dst) ? fs.readdirSync(dst) : []) if (have.has(f) && !want.includes(f)) fs.rmSync(path.join(dst, f), { force: true });
    if (fs.existsSync(dst) && fs.readdirSync(dst).length === 0) fs.rmdirSync(dst);
  }
  for (const i of have) if (!placed.has(i)) log(`icons/${i} is not named by any node's editor: not copied`);
}

/** Warn (never write) when package.json's node and bin lists differ from the folders. */
function checkPackageLists() {
  const { expectedLists } = require('./lint-package.js');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const want = expectedLists(root);
  const same = (a, b) => JSON.stringify(a || {}) === JSON.stringify(b);
  if (!same((pkg['node-red'] || {}).nodes, want.nodes)) console.warn(`[vigil build] package.json "node-red"."nodes" does not match nodes/: it should be ${JSON.stringify(want.nodes)} (edit it by hand; npm run lint:package checks it)`);
  if (!same(pkg.bin, want.bin)) console.warn(`[vigil build] package.json "bin" does not match bin/: it should be ${JSON.stringify(want.bin)} (edit it by hand, then npm install to update the lock)`);
}

/**
 * Compiled output whose TypeScript source is gone (a module renamed or removed): deleted, so an
 * updated checkout never loads or tests a module that no longer exists. Only files tsc wrote
 * (a `.js` with its `.js.map`) are touched; copied assets are left alone.
 */
function pruneStale() {
  const walk = (dir, rel) => {
    for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const out = path.join(dir, e.name);
      if (e.isDirectory()) walk(out, path.join(rel, e.name));
      else if (e.name.endsWith('.js.map')) {
        const base = e.name.slice(0, -'.js.map'.length);
        if (fs.existsSync(path.join(root, rel, `${base}.ts`))) continue;
        for (const f of [`${base}.js`, `${base}.js.map`, `${base}.d.ts`]) fs.rmSync(path.join(dir, f), { force: true });
        log(`removed stale ${path.join('dist', rel, `${base}.js`)} (its source is gone)`);
      }
    }
  };
  for (const dir of ['lib', 'nodes', 'bin', 'test', 'bench']) walk(path.join(dist, dir), dir);
}

function main() {
  checkPackageLists();
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
  }
  placeIcons(nodesDir);
  pruneStale();
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
