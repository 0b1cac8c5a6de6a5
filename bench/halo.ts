/**
 * HALO benchmark (loopback only, bounded in time): halo-in throughput, TCP newline-framed
 * JSON, against Node-RED's core `tcp in` (stream, split on "\n", strings) → `json` on the
 * same bytes, both in one Node-RED runtime (node-red-node-test-helper) in the same run.
 *
 * Messages are the HALO's recommended set string expanded by the simulator's template
 * engine, so halo-in does its whole job per message: framing, matching the set / reset /
 * heartbeat templates, pulling out every token, numbers, and the normalised event. Core
 * only splits and JSON-parses. Each side runs twice, interleaved; the best run counts.
 *
 * Two settings, each measured against core in the same run:
 * - `recommended`: the recommended templates, one connection;
 * - vendor examples: the set/reset strings of the HALO's own documentation (docs/halo.md §3.4) as templates
 *   (`{ "device":"%NAME%", "event":"%EID%", "alarm":"yes" }` / `"no"`), the load over 4
 *   concurrent connections in 64 KB writes.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { NodeAPI } from 'node-red';
import { RECOMMENDED_TEMPLATES } from '../lib/halo/decode';
import { HaloSimState } from '../lib/halo/sim';
import { expandTemplate } from '../lib/halo/template';
import { freePort } from '../test/helpers/ports';

const MESSAGES = 40_000;
const DEADLINE_MS = 60_000;

/** The set/reset strings of the HALO's documentation (docs/halo.md), as a user pastes them. */
const SEED_TEMPLATES = {
  set: '{ "device":"%NAME%", "event":"%EID%", "alarm":"yes" }',
  reset: '{ "device":"%NAME%", "event":"%EID%", "alarm":"no" }',
};

interface Setting {
  name: string;
  templates: { set: string; reset: string };
  connections: number;
}

const SETTINGS: Setting[] = [
  { name: 'recommended templates, 1 connection', templates: RECOMMENDED_TEMPLATES, connections: 1 },
  { name: "the vendor guide's set/reset templates, 4 connections", templates: SEED_TEMPLATES, connections: 4 },
];

/** The traffic for one setting, one Buffer per connection (messages dealt round-robin). */
function traffic(setting: Setting): Buffer[] {
  const st = new HaloSimState({ name: 'Bench-HALO', mac: '0011223344AA', ip: '10.0.0.7' });
  const ids = st.events.map((e) => e.id);
  const parts: string[][] = Array.from({ length: setting.connections }, () => []);
  for (let i = 0; i < MESSAGES; i++) {
    const id = ids[i % ids.length];
    const kind = i % 2 === 0 ? 'set' : 'reset';
    const e = kind === 'set' ? st.set(id, 10 + (i % 97)) : st.reset(id);
    const line = expandTemplate(setting.templates[kind], st.tokenValues(e));
    parts[i % setting.connections].push(line.endsWith('\n') ? line : `${line}\n`);
  }
  return parts.map((p) => Buffer.from(p.join('')));
}

async function connect(port: number): Promise<net.Socket> {
  for (let i = 0; i < 200; i++) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.once('error', reject);
      });
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

async function write(s: net.Socket, data: Buffer): Promise<void> {
  const CHUNK = 64 * 1024;
  for (let at = 0; at < data.length; at += CHUNK) {
    if (!s.write(data.subarray(at, at + CHUNK))) await new Promise((r) => s.once('drain', r));
  }
}


export async function run(): Promise<void> {
  const { helper, nodeModule } = await import('../test/helpers/nodered');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED core nodes have no typings
  const tcpNodes = require('@node-red/nodes/core/network/31-tcpin.js') as (RED: NodeAPI) => void;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED core nodes have no typings
  const jsonNode = require('@node-red/nodes/core/parsers/70-JSON.js') as (RED: NodeAPI) => void;
  const haloIn = nodeModule('halo-in') as (RED: NodeAPI) => void;
  for (const setting of SETTINGS) await measure(setting);

  async function measure(setting: Setting): Promise<void> {
    const data = traffic(setting);
    const bytes = data.reduce((a, b) => a + b.length, 0);

    async function once(which: 'core' | 'halo'): Promise<{ rate: number; received: number; kinds: string }> {
      const port = await freePort();
      const flow =
        which === 'core'
          ? [
              { id: 'tin', type: 'tcp in', server: 'server', host: '', port, datamode: 'stream', datatype: 'utf8', newline: '\\n', topic: '', trim: false, base64: false, tls: '', wires: [['js']] },
              { id: 'js', type: 'json', property: 'payload', action: '', pretty: false, wires: [['sink']] },
              { id: 'sink', type: 'helper' },
            ]
          : [
              {
                id: 'hin',
                type: 'halo-in',
                transport: 'tcp',
                host: '127.0.0.1',
                port,
                framing: 'newline',
                format: 'auto',
                setTemplate: setting.templates.set,
                resetTemplate: setting.templates.reset,
                heartbeatInterval: 60,
                missedHeartbeats: 3,
                wires: [['sink'], []],
              },
              { id: 'sink', type: 'helper' },
            ];
      await helper.load((which === 'core' ? [tcpNodes, jsonNode] : [haloIn]) as never, flow as never);
      let received = 0;
      let sets = 0;
      let done: () => void = () => undefined;
      const all = new Promise<void>((r) => (done = r));
      helper.getNode('sink').on('input', (msg: object) => {
        const m = msg as { payload?: { kind?: string; type?: string; alarm?: string } };
        if ((m.payload?.kind ?? m.payload?.type) === 'set' || m.payload?.alarm === 'yes') sets++;
        if (++received === MESSAGES) done();
      });
      const socks = await Promise.all(data.map(() => connect(port)));
      const t0 = performance.now();
      await Promise.all(socks.map((sock, i) => write(sock, data[i])));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, DEADLINE_MS)))]);
      clearTimeout(timer);
      const secs = (performance.now() - t0) / 1000;
      for (const sock of socks) sock.destroy();
      await helper.unload();
      return { rate: received / secs, received, kinds: `${sets} set` };
    }

    const best = { core: 0, halo: 0 };
    const seen: Record<string, string> = {};
    for (let round = 0; round < 2; round++) {
      for (const which of ['core', 'halo'] as const) {
        const r = await once(which);
        if (r.received < MESSAGES) console.log(`  (${which}: only ${r.received}/${MESSAGES} messages within ${DEADLINE_MS / 1000} s)`);
        best[which] = Math.max(best[which], r.rate);
        seen[which] = r.kinds;
      }
    }
    const k = (n: number): string => (n / 1000).toFixed(1);
    console.log(`HALO push receive, TCP newline JSON, ${setting.name}: ${MESSAGES} messages of ~${Math.round(bytes / MESSAGES)} B in 64 KB writes (best of 2):`);
    console.log(`  Node-RED core tcp in -> json          : ${k(best.core)} k msg/s (split + JSON.parse)`);
    console.log(`  Vigil halo-in (templates, tokens, event): ${k(best.halo)} k msg/s`);
    console.log(`  ratio halo-in / core                  : ${(best.halo / best.core).toFixed(2)}x`);
    console.log(`  (check: core saw ${seen.core}, halo-in saw ${seen.halo} messages of ${MESSAGES})`);
  }
}
