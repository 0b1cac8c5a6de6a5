#!/usr/bin/env node
// `npm test`: set up (install/build what is missing), then every suite — lib unit tests,
// node tests, the hostile (fuzz/attack) suite, the package lint, the browser tests — and a closing summary line.
// All suites run even when one fails; the exit code is non-zero if any failed.
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

function mochaCounts(out, code) {
  const n = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : 0;
  };
  const passed = n(/(\d+) passing/);
  const failed = n(/(\d+) failing/) || (code !== 0 && passed === 0 ? 1 : 0);
  return { passed, failed, skipped: n(/(\d+) pending/) };
}

function lintCounts(out, code) {
  const m = /(\d+) passed, (\d+) failed/.exec(out);
  return m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: 0 } : { passed: 0, failed: code === 0 ? 0 : 1, skipped: 0 };
}

async function main() {
  require('./setup.js').setup();
  const only = process.argv.slice(2);
  const suites = [
    ['lib', process.execPath, [mocha, '--config', '.mocharc.lib.json'], mochaCounts],
    ['nodes', process.execPath, [mocha, '--config', '.mocharc.nodes.json'], mochaCounts],
    ['hostile', process.execPath, [mocha, '--config', '.mocharc.hostile.json'], mochaCounts],
    ['package lint', process.execPath, [path.join(__dirname, 'lint-package.js')], lintCounts],
    ['browser', process.execPath, [mocha, '--config', '.mocharc.browser.json'], mochaCounts],
  ].filter(([name]) => only.length === 0 || only.includes(name));
  const results = [];
  for (const s of suites) results.push(await run(...s));
  console.log('\n=== summary ===');
  let p = 0;
  let f = 0;
  let k = 0;
  for (const r of results) {
    console.log(`${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.name}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`);
    p += r.passed;
    f += r.failed;
    k += r.skipped;
  }
  const bad = results.some((r) => r.code !== 0);
  if (bad && f === 0) f = 1;
  console.log(`tests: ${p} passed, ${f} failed${k ? `, ${k} skipped` : ''}`);
  process.exit(bad ? 1 : 0);
}

module.exports = { run, mochaCounts };
if (require.main === module) main();
