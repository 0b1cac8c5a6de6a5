#!/usr/bin/env node
// `npm test`: set up (install/build what is missing), then every suite — lib unit tests,
// node tests, the hostile (fuzz/attack) suite, the package lint, the browser tests — and a closing
// summary line that names what was skipped and why (tests skip through
// test/helpers/skip.ts, which prints `[vigil skip] <reason>`) and the browser used (printed
// by test/helpers/browser.ts as `[vigil browser] <which>`).
// All suites run even when one fails; the exit code is non-zero if any failed.
//
//   node scripts/test.js [suite …]   e.g. `node scripts/test.js browser` (names as in the summary;
//                                    `ffmpeg`, only on request, runs the tests that run ffmpeg)
'use strict';
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');

function run(name, cmd, args, parse, env) {
  return new Promise((resolve) => {
    console.log(`\n=== ${name} ===`);
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: env || process.env });
    let out = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      out += d.toString();
      if (out.length > 1e6) out = out.slice(-1e5);
    });
    child.on('close', (code) => resolve({ name, code, ...parse(out, code) }));
  });
}

/** Distinct values of the first group of `re` (global, multiline) in `out`, in order of appearance. */
function distinct(out, re) {
  return [...new Set([...out.matchAll(re)].map((m) => m[1].trim()))];
}

function mochaCounts(out, code) {
  const n = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : 0;
  };
  const passed = n(/(\d+) passing/);
  const failed = n(/(\d+) failing/) || (code !== 0 && passed === 0 ? 1 : 0);
  const skipped = n(/(\d+) pending/);
  const reasons = distinct(out, /\[vigil skip\] (.+)$/gm);
  if (skipped > 0 && reasons.length === 0) reasons.push('no reason given (use test/helpers/skip.ts)');
  const browser = distinct(out, /\[vigil browser\] (.+)$/gm);
  return { passed, failed, skipped, reasons: skipped > 0 ? reasons : [], notes: browser, failures: mochaFailures(out) };
}

/**
 * The failing tests of a mocha report, one line each (titles and the first line of the error),
 * so that the closing summary — the last lines of a CI log — names what failed.
 */
function mochaFailures(out) {
  const at = out.search(/^\s*\d+ failing\s*$/m);
  if (at < 0) return [];
  const chunks = out.slice(at).split(/^\s{0,4}\d+\) /m).slice(1);
  return chunks.slice(0, 20).map((c) => {
    const lines = c.split('\n').map((l) => l.trim()).filter(Boolean);
    const title = [];
    let i = 0;
    for (; i < lines.length && title.length < 4; i++) {
      title.push(lines[i].replace(/:$/, ''));
      if (lines[i].endsWith(':')) break;
    }
    const error = lines[i + 1] || '';
    const text = `${title.join(' › ')} — ${error}`;
    return text.length > 300 ? `${text.slice(0, 297)}…` : text;
  });
}

/** The tests that run ffmpeg (the `ffmpeg` suite, on request). */
const FFMPEG_TESTS = ['lib/common/ffmpeg', 'lib/camera/camera', 'nodes/camera/vigil-camera', 'lib/recorder/parts', 'lib/recorder/recorder', 'nodes/recorder/vigil-recorder'];

function lintCounts(out, code) {
  const m = /(\d+) passed, (\d+) failed/.exec(out);
  return m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: 0 } : { passed: 0, failed: code === 0 ? 0 : 1, skipped: 0 };
}

async function main() {
  require('./setup.js').setup();
  const only = process.argv.slice(2);
  const mochaSuite = (name, config) => [name, process.execPath, [mocha, '--config', config], mochaCounts];
  const suites = [
    mochaSuite('lib', '.mocharc.lib.json'),
    mochaSuite('nodes', '.mocharc.nodes.json'),
    mochaSuite('hostile', '.mocharc.hostile.json'),
    ['package lint', process.execPath, [path.join(__dirname, 'lint-package.js')], lintCounts],
    mochaSuite('browser', '.mocharc.browser.json'),
  ];
  // Only on request: the tests that run ffmpeg (`.ci/run` repeats them with VIGIL_FFMPEG=bundled).
  const onRequest = [[
    'ffmpeg',
    process.execPath,
    [mocha, '--timeout', '30000', '--exit', ...FFMPEG_TESTS.map((f) => `dist/test/${f}.test.js`)],
    mochaCounts,
  ]];
  const unknown = only.filter((n) => ![...suites, ...onRequest].some(([name]) => name === n));
  if (unknown.length) {
    console.error(`test: no suite ${unknown.join(', ')} (suites: ${[...suites, ...onRequest].map(([n]) => n).join(', ')})`);
    process.exit(2);
  }
  const chosen = only.length === 0 ? suites : [...suites, ...onRequest].filter(([name]) => only.includes(name));
  const results = [];
  for (const s of chosen) results.push(await run(...s));
  console.log('\n=== summary ===');
  let p = 0;
  let f = 0;
  let k = 0;
  const reasons = [];
  for (const r of results) {
    const notes = (r.notes || []).length ? ` — ${r.notes.join('; ')}` : '';
    const why = r.skipped ? ` (${(r.reasons || []).join('; ')})` : '';
    console.log(`${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.name}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped${why}` : ''}${notes}`);
    for (const x of r.failures || []) console.log(`       ✗ ${x}`);
    p += r.passed;
    f += r.failed;
    k += r.skipped;
    for (const x of r.reasons || []) if (!reasons.includes(x)) reasons.push(x);
  }
  const bad = results.some((r) => r.code !== 0);
  if (bad && f === 0) f = 1;
  console.log(`tests: ${p} passed, ${f} failed${k ? `, ${k} skipped (${reasons.join('; ')})` : ''}`);
  process.exit(bad ? 1 : 0);
}

module.exports = { run, mochaCounts, mochaFailures };
if (require.main === module) main();
