/**
 * The `npm start` path without a browser: a user directory written by prepareUserDir with
 * the demo flows (as scripts/start.js does), Node-RED started on it with the simulators.
 * The demo's credentials must reach the nodes (Node-RED only reads them from
 * flows_cred.json), the demo must run without runtime errors, and the simulators must reach
 * this Node-RED on its port. Node-RED and the simulators listen on port 0 (test/helpers/demo-rig.ts);
 * the demo flows, moved onto their ports, are written to the user directory and loaded from there.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startDemoRig, type DemoRig } from '../helpers/demo-rig';
import { env, type RunningNodeRed } from '../helpers/nodered-env';

describe('npm start user directory (demo flows from disk)', function () {
  let rig: DemoRig;
  let nr: RunningNodeRed;

  before(async function () {
    rig = await startDemoRig({ prefix: 'vigil-demo-', demoOnDisk: true });
    nr = rig.nr;
  });

  after(async function () {
    await rig?.stop();
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
