/**
 * The layering rule of lib/ (CONTRIBUTING.md "Rules"): `lib/<area>` imports only its own
 * files, `lib/common/*` and `lib/system/types.ts` — never a sibling area, never anything
 * outside lib/, never Node-RED. What two areas share moves down into lib/common. Read from
 * the TypeScript sources, so a new sideways import fails here before review.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const libDir = path.resolve(__dirname, '..', '..', '..', 'lib');

function sources(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of static imports/exports, `import()` and `require()` in one source. */
function specifiers(src: string): string[] {
  const re = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g;
  const out: string[] = [];
  for (let m = re.exec(src); m; m = re.exec(src)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** Why `spec`, imported by `file`, breaks the rule (undefined when it does not). */
function violation(file: string, spec: string): string | undefined {
  if (spec === 'node-red' || spec.startsWith('node-red/') || spec.startsWith('@node-red/')) return 'imports Node-RED';
  if (!spec.startsWith('.')) return undefined; // node: built-ins and packages
  const area = path.relative(libDir, file).split(path.sep)[0];
  const target = path.relative(libDir, path.resolve(path.dirname(file), spec)).replace(/\.(?:js|ts)$/, '');
  if (target.startsWith('..')) return 'imports from outside lib/';
  const targetArea = target.split(path.sep)[0];
  if (targetArea === area || targetArea === 'common' || target === path.join('system', 'types')) return undefined;
  return `imports the sibling area lib/${targetArea}`;
}

describe('lib/ layering', () => {
  it('lib/<area> imports only itself, lib/common and lib/system/types', () => {
    const found: string[] = [];
    for (const file of sources(libDir)) {
      for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
        const why = violation(file, spec);
        if (why) found.push(`lib/${path.relative(libDir, file)}: '${spec}' ${why}`);
      }
    }
    assert.deepEqual(found, []);
  });

  it('the check sees a sideways import (it is not vacuous)', () => {
    const file = path.join(libDir, 'camera', 'x.ts');
    assert.match(violation(file, '../halo/digest') ?? '', /sibling area lib\/halo/);
    assert.match(violation(file, '../../nodes/kit') ?? '', /outside lib/);
    assert.match(violation(file, 'node-red') ?? '', /Node-RED/);
    assert.equal(violation(file, '../common/clock'), undefined);
    assert.equal(violation(file, '../system/types'), undefined);
    assert.match(violation(file, '../system/hub') ?? '', /sibling area lib\/system/);
    assert.equal(violation(file, './rate'), undefined);
    assert.deepEqual(specifiers("import a from './a';\nimport type { B } from \"../b\";\nexport { c } from './c';\nconst d = require('./d');\nimport './e';"), ['./a', '../b', './c', './d', './e']);
  });
});
