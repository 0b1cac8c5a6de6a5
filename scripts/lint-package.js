#!/usr/bin/env node
// An offline Flow Library scorecard (node-red-dev validate re-done without the network,
// with its P05 keyword bug fixed), plus the packaging facts Node-RED relies on at load time.
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
        check('F07', `${t.type}: icon ${t.icon} beside the .js`, fs.existsSync(path.join(dir, 'icons', t.icon)), '');
      }
    }
  }
  const seen = new Set();
  for (const t of types) {
    check('N01', `node type ${t.type} registered once`, !seen.has(t.type), 'registered by two node files');
    seen.add(t.type);
  }
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

module.exports = { lint, editorTypes };
