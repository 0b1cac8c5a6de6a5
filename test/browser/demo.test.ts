/**
 * The `npm start` path without a browser: a user directory written by prepareUserDir with
 * the demo flows (as scripts/start.js does), Node-RED started on it with the simulators.
 * The demo's credentials must reach the nodes (Node-RED only reads them from
 * flows_cred.json), the demo must run without runtime errors, and the simulators must reach
 * this Node-RED on its port (here a free one, not the default 1880).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { env, type RunningNodeRed } from '../helpers/nodered-env';
import { freePort } from '../helpers/nodered';

describe('npm start user directory (demo flows from disk)', function () {
  let nr: RunningNodeRed;
  let sims: { stop(): Promise<void> };
  let userDir: string;

  before(async function () {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-'));
    const port = await freePort();
    env.prepareUserDir({ dir: userDir, port, flows: env.demoFlows() });
    sims = env.startSims({ log: () => undefined, editorPort: port });
    nr = env.startNodeRed({ dir: userDir, port });
    await nr.ready;
  });

  after(async function () {
    await nr?.stop();
    await sims?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('gives every demo node its credentials', async function () {
    const withCreds = env.demoFlows().filter((n) => n.credentials && typeof n.credentials === 'object');
    assert.ok(withCreds.length > 0, 'the demo has nodes with credentials');
    for (const n of withCreds) {
      const r = await fetch(`${nr.url}credentials/${String(n.type)}/${String(n.id)}`);
      assert.equal(r.status, 200);
      const got = (await r.json()) as Record<string, unknown>;
      for (const [key, value] of Object.entries(n.credentials as Record<string, unknown>)) {
        if (value === '' || value === undefined) continue;
        const seen = got[key] === value || got[`has_${key}`] === true;
        assert.ok(seen, `${String(n.type)} ${String(n.id)}: credential ${key} did not reach the runtime (${JSON.stringify(got)})`);
      }
    }
  });

  it('delivers the Gym-HALO simulator\'s HTTP push to this Node-RED, on its port', async function () {
    this.timeout(60000);
    // The simulator heartbeats every 15 s; the debug nodes behind the HTTP halo-in report to the editor's comms.
    const ws = new WebSocket(`${nr.url.replace(/^http/, 'ws')}comms`);
    try {
      const id = await new Promise<string>((resolve, reject) => {
        ws.on('open', () => ws.send(JSON.stringify({ subscribe: 'debug' })));
        ws.on('error', reject);
        ws.on('message', (data) => {
          const list = ([] as Array<{ topic?: string; data?: { id?: string } }>).concat(JSON.parse(String(data)));
          const hit = list.find((m) => m.topic === 'debug' && /^halo-demo-dbg-h(ev|hb)$/.test(m.data?.id ?? ''));
          if (hit) resolve(String(hit.data?.id));
        });
      });
      assert.match(id, /^halo-demo-dbg-h/);
    } finally {
      ws.close();
    }
  });

  it('runs the demo without runtime errors', async function () {
    await new Promise((r) => setTimeout(r, 5000));
    const bad = nr.lines.filter((l) => /\[error\]|unknown type|Waiting for missing types/i.test(l));
    assert.deepEqual(bad, []);
  });
});
