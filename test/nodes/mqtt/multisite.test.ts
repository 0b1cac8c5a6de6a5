/**
 * Vigil sites joined through a real MQTT broker (issue: "Beyond one machine"): two site
 * Node-RED runtimes and one central runtime, as real processes, on loopback. halo-sim pushes
 * events to each site over HTTP; the central must receive every one exactly once; a site killed
 * with SIGKILL must show offline at the central through its last will; a broker restart must
 * lose no retained state, and the sites resume. Figures are printed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HaloSim } from '../../../lib/halo/sim';
import { startBroker, type Broker } from '../../helpers/broker';
import { env } from '../../helpers/nodered-env';
import type { RunningNodeRed } from '../../helpers/nodered-env';

// mqtt.js is what Node-RED's own MQTT nodes use; the test reads the broker with it directly.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS entry of the mqtt devDependency
const mqtt = require('mqtt') as typeof import('mqtt');

const KEEPALIVE_S = 2;
const N = 40; // events pushed to each site
const log = (s: string): void => console.log(`      ${s}`);

function brokerNode(id: string, port: number, clientid: string, site?: string): Record<string, unknown> {
  const online = site ? `vigil/${site}/online` : '';
  return {
    id,
    type: 'mqtt-broker',
    name: 'broker',
    broker: '127.0.0.1',
    port: String(port),
    clientid,
    autoConnect: true,
    usetls: false,
    protocolVersion: '4',
    keepalive: String(KEEPALIVE_S),
    cleansession: true,
    autoUnsubscribe: true,
    birthTopic: online,
    birthQos: '1',
    birthRetain: 'true',
    birthPayload: site ? 'true' : '',
    birthMsg: {},
    closeTopic: '',
    closeQos: '0',
    closeRetain: 'false',
    closePayload: '',
    closeMsg: {},
    willTopic: online,
    willQos: '1',
    willRetain: 'true',
    willPayload: site ? 'false' : '',
    willMsg: {},
    userProps: '',
    sessionExpiry: '',
  };
}

function siteFlow(site: string, brokerPort: number): unknown[] {
  const z = `tab-${site}`;
  return [
    { id: z, type: 'tab', label: `site ${site}` },
    brokerNode(`broker-${site}`, brokerPort, `vigil-site-${site}`, site),
    { id: `halo-${site}`, type: 'halo-in', z, name: '', transport: 'http', host: '127.0.0.1', port: 1234, path: '/halo', format: 'auto', heartbeatInterval: 60, missedHeartbeats: 3, wires: [[`mqtt-${site}`], [`mqtt-${site}`]] },
    { id: `alarm-${site}`, type: 'vigil-alarm', z, name: 'cam', startTime: '00:00', endTime: '00:00', timezone: '', alertTimeS: 180, minMovementS: 10, initialAlarmDurationM: 30, alarmHysteresisS: 60, wires: [[`mqtt-${site}`], []] },
    { id: `mqtt-${site}`, type: 'vigil-mqtt', z, role: 'site', site, system: 'cam', discovery: true, discoveryPrefix: 'homeassistant', silenceS: 600, refreshS: 2, wires: [[`out-${site}`], [`alarm-${site}`]] },
    { id: `out-${site}`, type: 'mqtt out', z, topic: '', qos: '', retain: '', broker: `broker-${site}`, wires: [] },
    { id: `cmd-${site}`, type: 'mqtt in', z, topic: `vigil/${site}/alarm/+/command`, qos: '1', datatype: 'utf8', broker: `broker-${site}`, nl: false, rap: true, rh: 0, inputs: 0, wires: [[`mqtt-${site}`]] },
  ];
}

function centralFlow(brokerPort: number): unknown[] {
  const z = 'tab-central';
  return [
    { id: z, type: 'tab', label: 'central' },
    brokerNode('broker-central', brokerPort, 'vigil-central'),
    { id: 'c-in', type: 'mqtt in', z, topic: 'vigil/+/#', qos: '1', datatype: 'utf8', broker: 'broker-central', nl: false, rap: true, rh: 0, inputs: 0, wires: [['c-overview-node']] },
    { id: 'c-overview-node', type: 'vigil-mqtt', z, role: 'central', wires: [['c-keep'], ['c-count']] },
    { id: 'c-keep', type: 'function', z, func: "flow.set('overview', msg.payload);\nreturn null;", outputs: 1, wires: [[]] },
    {
      id: 'c-count',
      type: 'function',
      z,
      func: "const c = flow.get('counts') || {};\nconst k = msg.payload.site + '/' + msg.payload.kind + '/' + msg.payload.value;\nc[k] = (c[k] || 0) + 1;\nflow.set('counts', c);\nreturn null;",
      outputs: 1,
      wires: [[]],
    },
    { id: 'c-get', type: 'http in', z, url: '/state', method: 'get', upload: false, wires: [['c-answer']] },
    { id: 'c-answer', type: 'function', z, func: "msg.payload = { overview: flow.get('overview') || null, counts: flow.get('counts') || {} };\nreturn msg;", outputs: 1, wires: [['c-resp']] },
    { id: 'c-resp', type: 'http response', z, statusCode: '', headers: {}, wires: [] },
  ];
}

interface State {
  overview: { sites: Record<string, { online: boolean }>; alarms: Record<string, { state: string }>; devices: Record<string, unknown>; offline: { sites: string[] } } | null;
  counts: Record<string, number>;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, tries = 600, everyMs = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function retainedSnapshot(port: number): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const seen = new Map<string, string>();
    const c = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 4, clientId: `vigil-test-${process.pid}`, reconnectPeriod: 0 });
    c.on('error', reject);
    c.on('message', (topic, payload, packet) => {
      if (packet.retain) seen.set(topic, payload.toString());
    });
    c.on('connect', () => c.subscribe(['vigil/#', 'homeassistant/#'], { qos: 1 }, () => setTimeout(() => c.end(true, () => resolve(seen)), 500)));
  });
}

describe('vigil-mqtt: sites joined through a real broker (multi-instance)', function () {
  this.timeout(240_000);
  let broker: Broker;
  const red: Record<string, RunningNodeRed> = {};
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-multisite-'));

  async function startRuntime(name: string, flows: unknown[]): Promise<RunningNodeRed> {
    const dir = env.prepareUserDir({ dir: path.join(tmp, name), port: 0, flows });
    // Reconnect to the broker after a second (Node-RED's default is 5 s) so the test moves on quickly.
    const settings = path.join(dir, 'settings.js');
    fs.writeFileSync(settings, fs.readFileSync(settings, 'utf8').replace('module.exports = {', 'module.exports = {\n  mqttReconnectTime: 1000,'));
    const r = env.startNodeRed({ dir, port: 0 });
    await r.ready;
    red[name] = r;
    return r;
  }

  const central = async (): Promise<State> => (await fetch(`${red.central.url}state`)).json() as Promise<State>;

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [name, r] of Object.entries(red)) console.log(`--- ${name} (last lines)\n${r.lines.slice(-25).join('\n')}`);
  });

  after(async () => {
    await Promise.all(Object.values(red).map((r) => r.stop()));
    await broker?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('every event reaches the central exactly once; a dead site shows offline; a broker restart keeps retained state', async () => {
    broker = await startBroker(log);
    await Promise.all([startRuntime('central', centralFlow(broker.port)), startRuntime('a', siteFlow('a', broker.port)), startRuntime('b', siteFlow('b', broker.port))]);

    // Both sites announce themselves (birth) and their alarm's status.
    await waitFor('both sites online with their alarm status at the central', async () => {
      const s = await central();
      const ok = s.overview && ['a', 'b'].every((x) => s.overview!.sites[x]?.online === true && s.overview!.alarms[`${x}/cam`]);
      return ok ? true : undefined;
    });

    // halo-sim pushes N events to each site: set/reset alternating, each with its own value.
    const sims = ['a', 'b'].map((site) => new HaloSim({ device: { name: 'Hall-2F' }, targets: [{ protocol: 'http', host: '127.0.0.1', port: red[site].port, url: `${red[site].url}halo` }] }));
    const t0 = Date.now();
    await Promise.all(
      sims.map(async (sim) => {
        const ev = sim.state.events.find((e) => e.id === 'Vape')!;
        for (let i = 1; i <= N; i++) {
          const r = await sim.push(i % 2 ? 'set' : 'reset', { ...ev, value: i, active: i % 2 === 1 });
          assert.ok(r[0].ok, `push ${i}: ${r[0].error ?? ''}`);
        }
      }),
    );
    const s = await waitFor('every event at the central', async () => {
      const st = await central();
      return Object.values(st.counts).reduce((a, b) => a + b, 0) >= 2 * N ? st : undefined;
    });
    const received = Object.values(s.counts).reduce((a, b) => a + b, 0);
    const duplicates = Object.values(s.counts).filter((n) => n > 1).length;
    log(`events: sent ${2 * N}, received ${received}, distinct ${Object.keys(s.counts).length}, duplicates ${duplicates} (${Date.now() - t0} ms)`);
    for (const site of ['a', 'b']) for (let i = 1; i <= N; i++) assert.equal(s.counts[`${site}/${i % 2 ? 'set' : 'reset'}/${i}`], 1, `${site} event ${i} exactly once`);
    assert.equal(received, 2 * N);
    const devices = await waitFor('both HALOs in the overview', async () => {
      const d = (await central()).overview?.devices ?? {};
      return d['a/Hall-2F'] && d['b/Hall-2F'] ? Object.keys(d) : undefined;
    });
    assert.deepEqual(devices.sort(), ['a/Hall-2F', 'b/Hall-2F']);

    // Kill site b outright: the broker publishes its last will after ~1.5 keep-alives.
    const killedAt = Date.now();
    red.b.child.kill('SIGKILL');
    await waitFor('site b offline at the central', async () => ((await central()).overview?.offline.sites.includes('b') ? true : undefined));
    const noticed = Date.now() - killedAt;
    log(`dead site noticed at the central after ${noticed} ms (keep-alive ${KEEPALIVE_S} s)`);
    assert.ok(noticed < 30_000, 'noticed through the last will, well within the keep-alive scale');
    delete red.b;

    // Restart the broker: retained state survives, the sites and the central resume.
    await broker.restart();
    const retained = await retainedSnapshot(broker.port);
    const disc = [...retained.keys()].filter((t) => t.startsWith('homeassistant/')).length;
    log(`after the broker restart (${broker.kind}): ${retained.size} retained topics, ${disc} of them Home Assistant discovery`);
    assert.equal(retained.get('vigil/b/online'), 'false', 'the dead site stays offline');
    assert.ok(retained.has('vigil/a/halo/Hall-2F/state'), 'site a device state kept');
    assert.ok(retained.has('vigil/a/alarm/cam/status') && retained.has('vigil/b/alarm/cam/status'), 'alarm status kept');
    assert.ok(disc >= 2 * 4, 'discovery configs kept (an event and three alarm entities per site)');

    await waitFor('site a back online', async () => ((await retainedSnapshot(broker.port)).get('vigil/a/online') === 'true' ? true : undefined), 100, 200);
    const sim = sims[0];
    const ev = sim.state.events.find((e) => e.id === 'Vape')!;
    for (let i = N + 1; i <= N + 5; i++) assert.ok((await sim.push('set', { ...ev, value: i, active: true }))[0].ok);
    const after = await waitFor('events after the restart at the central', async () => {
      const st = await central();
      return [1, 2, 3, 4, 5].every((k) => st.counts[`a/set/${N + k}`] === 1) && st.overview?.sites.a.online === true ? st : undefined;
    });
    assert.equal(after.overview!.sites.b.online, false, 'the dead site is still offline at the central');
    await Promise.all(sims.map((x) => x.close()));
  });
});
