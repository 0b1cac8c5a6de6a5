/**
 * `npm run bench`: runs every benchmark module in this folder (each exports
 * `run(): Promise<void>` and prints its figures beside a baseline measured in the same
 * run). `npm run bench -- halo motion` runs only those.
 */
import fs from 'node:fs';
import path from 'node:path';

interface BenchModule {
  run(): Promise<void>;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.js') && f !== 'index.js')
    .map((f) => f.slice(0, -3))
    .filter((name) => only.length === 0 || only.includes(name))
    .sort();
  let failed = 0;
  for (const name of files) {
    console.log(`\n=== bench: ${name} ===`);
    const started = Date.now();
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- modules discovered at run time
      const mod = require(path.join(__dirname, `${name}.js`)) as Partial<BenchModule>;
      if (typeof mod.run !== 'function') {
        console.log(`(skipped: ${name}.js exports no run())`);
        continue;
      }
      await mod.run();
    } catch (err) {
      failed++;
      console.error(`bench ${name} failed: ${err instanceof Error ? err.stack : String(err)}`);
    }
    console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  process.exit(failed ? 1 : 0);
}

void main();
