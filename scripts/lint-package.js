#!/usr/bin/env node
// An offline Flow Library scorecard (node-red-dev validate re-done without the network,
// with its P05 keyword bug fixed), plus the packaging facts Node-RED relies on at load time,
// plus the repository's own bookkeeping: package.json's node and bin lists match the nodes/
// and bin/ folders (the build never writes them), and package-lock.json is in step with
// package.json (so `npm ci` works and `npm install` rewrites nothing).
//
//   node scripts/lint-package.js [--dir <package dir>] [--node-red <node-red package dir>] [--json]
//
// Exit code 1 when any check fails.
'use strict';
const fs = require('fs');
const path = require('path');

function args() {
  const a = process.argv.slice(2);
  const o = { dir: path.resolve(__dirname, '..'), nodeRed: null, json: false };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--dir') o.dir = path.resolve(a[++i]);
    else if (a[i] === '--node-red') o.nodeRed = path.resolve(a[++i]);
    else if (a[i] === '--json') o.json = true;
  }
  return o;
}

function walk(dir, pred, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, pred, out);
    else if (pred(p)) out.push(p);
  }
  return out;
}

/** Node types and categories from `RED.nodes.registerType('<type>', { … category: '<c>' …})` in an editor file. */
function editorTypes(html) {
  const out = [];
  const re = /RED\.nodes\.registerType\(\s*['"]([^'"]+)['"]\s*,\s*\{/g;
  let m;
  while ((m = re.exec(html))) {
    const rest = html.slice(m.index, m.index + 4000);
    const c = /category\s*:\s*['"]([^'"]+)['"]/.exec(rest);
    const icon = /\bicon\s*:\s*['"]([^'"]+)['"]/.exec(rest);
    out.push({ type: m[1], category: c ? c[1] : null, icon: icon ? icon[1] : null });
  }
  return out;
}

/** The `node-red.nodes` and `bin` maps the nodes/ and bin/ folders call for (one node set per node folder). */
function expectedLists(dir) {
  const nodes = {};
  const nodesDir = path.join(dir, 'nodes');
  for (const t of fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir).sort() : []) {
    if (fs.existsSync(path.join(nodesDir, t, `${t}.ts`))) nodes[t] = `dist/nodes/${t}/${t}.js`;
  }
  const bin = {};
  const binDir = path.join(dir, 'bin');
  for (const f of fs.existsSync(binDir) ? fs.readdirSync(binDir).sort() : []) {
    if (f.endsWith('.ts') && !f.startsWith('_')) bin[f.slice(0, -3)] = `dist/bin/${f.slice(0, -3)}.js`;
  }
  return { nodes, bin };
}

/** The differences between two string maps, as "+key", "-key", "~key" (changed value). */
function mapDiff(want, have) {
  const out = [];
  for (const k of Object.keys(want)) if (!(k in have)) out.push(`missing ${k}`);
  for (const k of Object.keys(have)) if (!(k in want)) out.push(`extra ${k}`);
  for (const k of Object.keys(want)) if (k in have && JSON.stringify(want[k]) !== JSON.stringify(have[k])) out.push(`${k}: ${JSON.stringify(have[k])}, expected ${JSON.stringify(want[k])}`);
  return out;
}

/** package-lock.json against package.json: the facts `npm ci` insists on, and what `npm install` would rewrite. */
function lockChecks(o, pkg, semver, check) {
  const lockPath = path.join(o.dir, 'package-lock.json');
  if (!fs.existsSync(lockPath)) {
    check('L01', 'package-lock.json present', false, 'run npm install and commit package-lock.json');
    return;
  }
  const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
  check('L01', 'package-lock.json present (lockfileVersion 3)', lock.lockfileVersion === 3 && lock.packages && lock.packages[''], `lockfileVersion ${lock.lockfileVersion}`);
  const rootEntry = (lock.packages && lock.packages['']) || {};
  const fields = ['name', 'version', 'license', 'engines', 'bin', 'dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
  const drift = [];
  if (lock.name !== pkg.name || lock.version !== pkg.version) drift.push(`top-level name/version ${lock.name}@${lock.version}`);
  for (const f of fields) {
    const want = f === 'bin' && typeof pkg.bin === 'string' ? { [pkg.name.split('/').pop()]: pkg.bin } : pkg[f];
    const have = rootEntry[f];
    if (JSON.stringify(want ?? null) === JSON.stringify(have ?? null)) continue;
    drift.push(`"${f}"${want && have && typeof want === 'object' ? ` (${mapDiff(want, have).map((d) => d.replace(/^missing /, 'lock lacks ').replace(/^extra /, 'lock has extra ')).join(', ')})` : `: lock ${JSON.stringify(have)}, package.json ${JSON.stringify(want)}`}`);
  }
  check('L02', 'package-lock.json root entry in step with package.json', drift.length === 0, `${drift.join('; ')} — run npm install and commit package-lock.json`);
  const missing = [];
  for (const f of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(pkg[f] || {})) {
      const entry = lock.packages && lock.packages[`node_modules/${name}`];
      if (!entry) missing.push(`${name} not locked`);
      else if (semver && entry.version && semver.validRange(range) && !semver.satisfies(entry.version, range)) missing.push(`${name}@${entry.version} does not satisfy ${range}`);
    }
  }
  check('L03', 'every declared dependency locked at a version its range admits', missing.length === 0, `${missing.join('; ')} — run npm install`);
}

function lint(o) {
  const results = [];
  const check = (id, title, ok, detail) => results.push({ id, title, ok: !!ok, detail: detail || '' });
  const pkgPath = path.join(o.dir, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
  let semver;
  try {
    semver = require(require.resolve('semver', { paths: [o.dir, __dirname] }));
  } catch {
    semver = null;
  }

  // P01 licence
  check('P01', 'licence declared', typeof pkg.license === 'string' && pkg.license.length > 0, pkg.license ? `license: ${pkg.license}` : 'package.json has no "license"');
  check('P01b', 'LICENSE file present', fs.existsSync(path.join(o.dir, 'LICENSE')) || fs.existsSync(path.join(o.dir, 'LICENSE.md')), 'no LICENSE file at the package root');
  // P03 repository
  check('P03', 'repository or bugs declared', !!(pkg.repository || pkg.bugs), 'package.json has neither "repository" nor "bugs"');
  // P04 naming
  const name = String(pkg.name || '');
  const scoped = /^@[a-z0-9-~][a-z0-9-._~]*\/[a-z0-9-~][a-z0-9-._~]*$/.test(name);
  const contrib = /^node-red-contrib-/.test(name);
  check('P04', 'scoped name (or node-red-contrib-)', scoped || (contrib && !scoped), `name "${name}"`);
  // P05 keyword (the real tool records a pass even when it is missing)
  check('P05', 'keywords include "node-red"', Array.isArray(pkg.keywords) && pkg.keywords.includes('node-red'), 'add "node-red" to keywords');

  // P06 / P07 against the Node-RED we test with
  const nrDir = o.nodeRed || path.dirname(require.resolve('node-red/package.json', { paths: [o.dir, path.resolve(__dirname, '..')] }));
  const nrPkg = JSON.parse(fs.readFileSync(path.join(nrDir, 'package.json'), 'utf8'));
  const nr = pkg['node-red'] || {};
  if (!semver) {
    check('P06', 'node-red.version satisfied', false, 'the semver package is not installed');
  } else {
    check('P06', `node-red.version satisfied by Node-RED ${nrPkg.version}`, typeof nr.version === 'string' && semver.satisfies(nrPkg.version, nr.version), nr.version ? `"${nr.version}" does not admit ${nrPkg.version}` : 'no node-red.version');
    // The real P07: engines.node must admit the minimum Node.js of the latest Node-RED.
    // Offline, "latest" is Node-RED 5 from .nr5/ when `npm run test:nr5` installed it,
    // else the recorded fact (Node-RED 5.0.x needs Node >=22.9.0).
    const engines = pkg.engines && pkg.engines.node;
    const nr5Pkg = path.join(o.dir, '.nr5', 'node_modules', 'node-red', 'package.json');
    const latestMin = fs.existsSync(nr5Pkg) ? semver.minVersion(JSON.parse(fs.readFileSync(nr5Pkg, 'utf8')).engines.node).version : '22.9.0';
    check('P07', `engines.node admits Node ${latestMin} (minimum of the latest Node-RED)`, !!engines && semver.satisfies(latestMin, engines), engines ? `"${engines}"` : 'no engines.node');
    const nrEngines = nrPkg.engines && nrPkg.engines.node;
    check('P07b', `engines.node overlaps Node-RED ${nrPkg.version}'s (${nrEngines})`, !!engines && !!nrEngines && semver.intersects(engines, nrEngines), engines ? `"${engines}"` : 'no engines.node');
  }

  // D01 dependencies
  const deps = Object.keys(pkg.dependencies || {});
  check('D01', 'at most 6 dependencies', deps.length <= 6, `${deps.length}: ${deps.join(', ')}`);

  // The node and bin lists match the folders (written by hand: the build never writes package.json)
  const lists = expectedLists(o.dir);
  const nodeDiff = mapDiff(lists.nodes, (pkg['node-red'] || {}).nodes || {});
  check('N03', 'node-red.nodes lists exactly the node folders (nodes/<type>/<type>.ts)', nodeDiff.length === 0, nodeDiff.join('; '));
  const binDiff = mapDiff(lists.bin, typeof pkg.bin === 'object' && pkg.bin ? pkg.bin : {});
  check('B01', 'bin lists exactly bin/*.ts', binDiff.length === 0, binDiff.join('; '));
  lockChecks(o, pkg, semver, check);

  // Node files: .js built, .html and locales beside it, types parsed, icons present and unique
  const nodes = nr.nodes || {};
  check('N00', 'node-red.nodes declares node files', Object.keys(nodes).length > 0, 'node-red.nodes is empty');
  const types = [];
  const iconNames = new Set();
  for (const f of walk(path.join(o.dir, 'icons'), (p) => /\.(svg|png)$/.test(p))) iconNames.add(path.basename(f));
  for (const [set, rel] of Object.entries(nodes)) {
    const js = path.join(o.dir, rel);
    const base = path.basename(rel).replace(/\.c?js$/, '');
    const dir = path.dirname(js);
    const html = js.replace(/\.c?js$/, '.html');
    check('F01', `${set}: compiled ${rel} exists`, fs.existsSync(js), 'build first (npm run build)');
    check('F02', `${set}: editor .html beside the .js`, fs.existsSync(html), path.relative(o.dir, html));
    check('F03', `${set}: message catalog locales/en-US/${base}.json beside the .js`, fs.existsSync(path.join(dir, 'locales', 'en-US', `${base}.json`)), '');
    if (!fs.existsSync(html)) continue;
    const text = fs.readFileSync(html, 'utf8');
    const found = editorTypes(text);
    check('F04', `${set}: the .html registers a node type with a literal category`, found.length > 0 && found.every((t) => t.category), 'no RED.nodes.registerType(<literal>, {category: <literal>}) found');
    const helpFile = path.join(dir, 'locales', 'en-US', `${base}.html`);
    const help = text + (fs.existsSync(helpFile) ? fs.readFileSync(helpFile, 'utf8') : '');
    for (const t of found) {
      types.push({ ...t, set });
      check('F05', `${t.type}: help present`, help.includes(`data-help-name="${t.type}"`), 'no <script data-help-name> for it');
      if (t.category !== 'config') check('F06', `${t.type}: palette category "vigil"`, t.category === 'vigil', `category "${t.category}"`);
      if (t.icon && !t.icon.startsWith('font-awesome/') && /\.(svg|png)$/.test(t.icon)) {
        // Node-RED looks a module's icons up in the icons/ folders beside all its node files.
        const found = Object.values(nodes).some((r) => fs.existsSync(path.join(o.dir, path.dirname(r), 'icons', t.icon)));
        check('F07', `${t.type}: icon ${t.icon} in an icons/ folder beside the module's node files`, found, 'build first, and name the icon in icons/');
      }
    }
  }
  const seen = new Set();
  for (const t of types) {
    check('N01', `node type ${t.type} registered once`, !seen.has(t.type), 'registered by two node files');
    seen.add(t.type);
  }
  // Node-RED serves a module's icons from the icons/ folders beside all its node files: one copy each is enough.
  const copies = new Map();
  for (const rel of Object.values(nodes)) {
    const iconDir = path.join(o.dir, path.dirname(rel), 'icons');
    for (const f of fs.existsSync(iconDir) ? fs.readdirSync(iconDir) : []) copies.set(f, (copies.get(f) || 0) + 1);
  }
  for (const [icon, n] of copies) check('I02', `icon ${icon} shipped once`, n === 1, `${n} copies in the node folders`);
  const named = new Set(types.map((t) => t.icon));
  for (const icon of iconNames) check('I03', `icons/${icon} is used by a node`, named.has(icon), 'no node editor names it');
  for (const icon of iconNames) check('I01', `icon ${icon} has a package-unique name (vigil-*)`, icon.startsWith('vigil-'), 'icon folders share one search path across all modules');

  // N02 examples
  const exampleTypes = new Set();
  const exampleFiles = walk(path.join(o.dir, 'examples'), (p) => p.endsWith('.json'));
  for (const f of exampleFiles) {
    let flow;
    try {
      flow = JSON.parse(fs.readFileSync(f, 'utf8'));
    } catch (e) {
      check('E01', `${path.relative(o.dir, f)} parses`, false, e.message);
      continue;
    }
    check('E01', `${path.relative(o.dir, f)} is a flow array`, Array.isArray(flow), 'must be a top-level JSON array');
    if (Array.isArray(flow)) for (const n of flow) if (n && typeof n.type === 'string') exampleTypes.add(n.type);
  }
  for (const t of types) {
    if (t.category === 'config') continue;
    check('N02', `${t.type} used in an example`, exampleTypes.has(t.type), 'no examples/**/*.json uses it');
  }
  return results;
}

if (require.main === module) {
  const o = args();
  let results;
  try {
    results = lint(o);
  } catch (e) {
    console.error(`lint-package: ${e.message}`);
    process.exit(1);
  }
  if (o.json) console.log(JSON.stringify(results, null, 2));
  else {
    for (const r of results) console.log(`${r.ok ? 'pass' : 'FAIL'}  ${r.id}  ${r.title}${r.ok ? '' : `  — ${r.detail}`}`);
    const failed = results.filter((r) => !r.ok).length;
    console.log(`lint:package: ${results.length - failed} passed, ${failed} failed`);
  }
  process.exit(results.some((r) => !r.ok) ? 1 : 0);
}

/** Why `npm ci` would refuse (or `npm install` rewrite) this package.json/lock pair: failure lines, empty when in step. */
function lockProblems(dir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  let semver = null;
  try {
    semver = require(require.resolve('semver', { paths: [dir, __dirname] }));
  } catch {
    semver = null;
  }
  const out = [];
  lockChecks({ dir }, pkg, semver, (id, title, ok, detail) => {
    if (!ok) out.push(`${title}: ${detail}`);
  });
  return out;
}

module.exports = { lint, editorTypes, expectedLists, lockProblems };
