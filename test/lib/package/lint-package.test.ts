/**
 * The offline scorecard must be able to fail: a good fixture package passes, and each
 * breakage below makes exactly the check that guards it fail.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const script = path.join(repoRoot, 'scripts', 'lint-package.js');
const nodeRed = path.dirname(require.resolve('node-red/package.json', { paths: [repoRoot] }));

interface Result {
  id: string;
  ok: boolean;
  title: string;
}

function write(dir: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
}

function fixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lint-'));
  write(dir, 'package.json', JSON.stringify({
    name: '@acme/node-red-thing',
    version: '1.0.0',
    license: 'Apache-2.0',
    repository: { type: 'git', url: 'https://example.invalid/x.git' },
    keywords: ['node-red'],
    engines: { node: '>=20' },
    dependencies: { a: '1', b: '1' },
    'node-red': { version: '>=3.1.0', nodes: { thing: 'dist/nodes/thing/thing.js', cfg: 'dist/nodes/cfg/cfg.js' } },
  }));
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  write(dir, 'package-lock.json', JSON.stringify({
    name: pkg.name,
    version: pkg.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: pkg.name, version: pkg.version, license: pkg.license, dependencies: pkg.dependencies, engines: pkg.engines },
      'node_modules/a': { version: '1.0.0' },
      'node_modules/b': { version: '1.2.0' },
    },
  }));
  write(dir, 'LICENSE', 'Apache License 2.0');
  write(dir, 'icons/vigil-thing.svg', '<svg/>');
  for (const t of ['thing', 'cfg']) {
    const category = t === 'cfg' ? 'config' : 'vigil';
    write(dir, `dist/nodes/${t}/${t}.js`, 'module.exports = () => {};');
    write(dir, `dist/nodes/${t}/${t}.html`, `<script type="text/javascript">RED.nodes.registerType('${t}', { category: '${category}', icon: 'vigil-thing.svg', defaults: {} });</script>`);
    write(dir, `dist/nodes/${t}/locales/en-US/${t}.json`, '{}');
    write(dir, `dist/nodes/${t}/locales/en-US/${t}.html`, `<script type="text/html" data-help-name="${t}"><p>x</p></script>`);
    write(dir, `nodes/${t}/${t}.ts`, 'export = () => undefined;');
  }
  write(dir, 'dist/nodes/thing/icons/vigil-thing.svg', '<svg/>'); // once: Node-RED serves it to both nodes
  write(dir, 'examples/Use it.json', JSON.stringify([{ id: '1', type: 'thing' }]));
  return dir;
}

function lint(dir: string): { code: number | null; results: Result[] } {
  const r = spawnSync(process.execPath, [script, '--dir', dir, '--node-red', nodeRed, '--json'], { encoding: 'utf8' });
  return { code: r.status, results: JSON.parse(r.stdout) as Result[] };
}

function editPkg(dir: string, f: (p: Record<string, unknown>) => void): void {
  const p = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  f(p);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(p));
}

function editLock(dir: string, f: (l: Record<string, unknown>) => void): void {
  const l = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as Record<string, unknown>;
  f(l);
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify(l));
}

const breakages: Array<[string, string, (dir: string) => void]> = [
  ['no licence', 'P01', (d) => editPkg(d, (p) => delete p.license)],
  ['no repository', 'P03', (d) => editPkg(d, (p) => delete p.repository)],
  ['unscoped node-red name', 'P04', (d) => editPkg(d, (p) => (p.name = 'node-red-thing'))],
  ['no node-red keyword', 'P05', (d) => editPkg(d, (p) => (p.keywords = ['iot']))],
  ['node-red.version excludes the installed Node-RED', 'P06', (d) => editPkg(d, (p) => ((p['node-red'] as Record<string, unknown>).version = '>=99.0.0'))],
  ['engines.node excludes the latest Node-RED\'s minimum', 'P07', (d) => editPkg(d, (p) => (p.engines = { node: '>=24' }))],
  ['seven dependencies', 'D01', (d) => editPkg(d, (p) => (p.dependencies = { a: '1', b: '1', c: '1', e: '1', f: '1', g: '1', h: '1' }))],
  ['a node with no example', 'N02', (d) => fs.writeFileSync(path.join(d, 'examples', 'Use it.json'), '[]')],
  ['no .html beside the .js', 'F02', (d) => fs.rmSync(path.join(d, 'dist/nodes/thing/thing.html'))],
  ['no locales beside the .js', 'F03', (d) => fs.rmSync(path.join(d, 'dist/nodes/thing/locales'), { recursive: true })],
  ['no help', 'F05', (d) => fs.writeFileSync(path.join(d, 'dist/nodes/thing/locales/en-US/thing.html'), '')],
  ['icon in no icons/ folder beside the node files', 'F07', (d) => fs.rmSync(path.join(d, 'dist/nodes/thing/icons'), { recursive: true })],
  ['an icon shipped twice', 'I02', (d) => write(d, 'dist/nodes/cfg/icons/vigil-thing.svg', '<svg/>')],
  ['an icon no node uses', 'I03', (d) => write(d, 'icons/vigil-unused.svg', '<svg/>')],
  ['a node folder missing from node-red.nodes', 'N03', (d) => write(d, 'nodes/extra/extra.ts', '')],
  ['a bin/ script missing from bin', 'B01', (d) => write(d, 'bin/extra-sim.ts', '')],
  ['no package-lock.json', 'L01', (d) => fs.rmSync(path.join(d, 'package-lock.json'))],
  ['package.json changed without the lock', 'L02', (d) => editPkg(d, (p) => (p.dependencies = { a: '^1.0.0', b: '1' }))],
  ['a locked version outside the range', 'L03', (d) => editLock(d, (l) => ((l.packages as Record<string, { version: string }>)['node_modules/a'].version = '2.0.0'))],
  ['icon name not package-unique', 'I01', (d) => fs.writeFileSync(path.join(d, 'icons', 'alarm.svg'), '<svg/>')],
  ['an example that is not a flow array', 'E01', (d) => fs.writeFileSync(path.join(d, 'examples', 'bad.json'), '{"a":1}')],
];

describe('scripts/lint-package.js (offline scorecard)', function () {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('passes a well-formed package', function () {
    const dir = fixture();
    dirs.push(dir);
    const { code, results } = lint(dir);
    assert.deepEqual(results.filter((r) => !r.ok), []);
    assert.equal(code, 0);
  });

  for (const [what, id, breakIt] of breakages) {
    it(`fails ${id} for ${what}`, function () {
      const dir = fixture();
      dirs.push(dir);
      breakIt(dir);
      const { code, results } = lint(dir);
      assert.equal(code, 1);
      const failed = results.filter((r) => !r.ok).map((r) => r.id);
      assert.ok(failed.includes(id), `expected ${id} among failures, got ${failed.join(', ')}`);
    });
  }
});
