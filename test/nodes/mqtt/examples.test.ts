/**
 * The MQTT examples as shipped (examples/MQTT/Site.json and Central.json), each in a real
 * Node-RED process against a real broker on loopback, their demo ports moved to free ones:
 * the site announces itself (retained birth `true`), publishes its alarm status and Home
 * Assistant discovery, forwards a HALO event pushed over TCP by halo-sim, and takes a Home
 * Assistant Silence button press from the broker into its vigil-alarm; the central connects
 * and subscribes. When the site dies, the broker's retained will says `false`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HaloSim } from '../../../lib/halo/sim';
import { startBroker, type Broker } from '../../helpers/broker';
import { env, type RunningNodeRed } from '../../helpers/nodered-env';
import { freePort, repoRoot } from '../../helpers/nodered';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS entry of the mqtt devDependency
const mqtt = require('mqtt') as typeof import('mqtt');
const log = (s: string): void => console.log(`      ${s}`);

type FlowNode = Record<string, unknown> & { id: string; type: string };

/** An example with its ports moved, on a tab of its own (the editor's import does the same). */
function exampleFlow(file: string, ports: Map<number, number>): FlowNode[] {
  const nodes = JSON.parse(env.movePorts(fs.readFileSync(path.join(repoRoot, 'examples', 'MQTT', file), 'utf8'), ports)) as FlowNode[];
  const z = `tab-${file}`;
  return [{ id: z, type: 'tab', label: file }, ...nodes.map((n) => (n.type === 'mqtt-broker' ? n : { ...n, z }))];
}

async function waitFor<T>(what: string, fn: () => T | undefined, tries = 600, everyMs = 100): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('vigil-mqtt: the MQTT examples against a real broker', function () {
  this.timeout(180_000);
  let broker: Broker | undefined;
  const red: Record<string, RunningNodeRed> = {};
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-mqtt-examples-'));
  let client: import('mqtt').MqttClient | undefined;

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [name, r] of Object.entries(red)) console.log(`--- ${name} (last lines)\n${r.lines.slice(-25).join('\n')}`);
  });

  after(async () => {
    client?.end(true);
    await Promise.all(Object.values(red).map((r) => r.stop()));
    await broker?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('Site publishes birth, status, discovery and HALO events and takes a Silence press; Central subscribes; a dead site is offline', async () => {
    broker = await startBroker(log);
    const haloPort = await freePort();
    // 1883 → the broker; 6015 → halo-in's port; 6030 → a port with no camera (vigil-camera retries).
    const ports = new Map([[1883, broker.port], [6015, haloPort], [6030, await freePort()]]);
    const seen = new Map<string, string>();
    client = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, protocolVersion: 4, clientId: `vigil-ex-${process.pid}`, reconnectPeriod: 0 });
    client.on('message', (topic, payload) => seen.set(topic, payload.toString()));
    await client.subscribeAsync(['vigil/#', 'homeassistant/#'], { qos: 1 });

    for (const [name, file] of [['site', 'Site.json'], ['central', 'Central.json']]) {
      const dir = env.prepareUserDir({ dir: path.join(tmp, name), port: 0, flows: exampleFlow(file, ports) });
      red[name] = env.startNodeRed({ dir, port: 0 });
    }
    const launched = Date.now();
    await Promise.all(Object.values(red).map((r) => r.ready));
    log(`both Node-REDs ready after ${Date.now() - launched} ms`);
    const started = Date.now();
    const step = (what: string): void => log(`${what} after ${Date.now() - started} ms`);

    await waitFor('the site online (birth)', () => (seen.get('vigil/north/online') === 'true' ? true : undefined));
    const status = await waitFor('the alarm status', () => seen.get('vigil/north/alarm/cam/status'));
    assert.equal((JSON.parse(status) as { state: string }).state, 'on');
    step('site online with its alarm status');
    const disc = await waitFor('three alarm discovery configs', () => {
      const d = [...seen.keys()].filter((t) => t.startsWith('homeassistant/'));
      return d.length >= 3 ? d : undefined;
    });
    const silence = disc.map((t) => JSON.parse(seen.get(t)!) as { name?: string; command_topic?: string; payload_press?: string }).find((c) => c.name === 'Silence');
    assert.ok(silence?.command_topic && silence.payload_press, 'a Silence button with its command topic');
    await waitFor('the central connected', () => (red.central.lines.some((l) => /Connected to broker: vigil-central@/.test(l)) ? true : undefined));
    step('discovery published, central connected');

    // A HALO pushes over TCP (the templates the example's halo-in expects): the event goes out on its topic.
    const sim = new HaloSim({ device: { name: 'Hall-2F' }, targets: [{ protocol: 'tcp', host: '127.0.0.1', port: haloPort }] });
    const ev = sim.state.events.find((e) => e.id === 'Vape')!;
    await waitFor('the event on the broker', () => {
      void sim.push('set', { ...ev, value: 42, active: true });
      const p = seen.get('vigil/north/halo/Hall-2F/Vape');
      return p && (JSON.parse(p) as { value?: number }).value === 42 ? true : undefined;
    }, 60, 500);
    await sim.close();
    step('HALO event through');
    assert.deepEqual((JSON.parse(seen.get('vigil/north/halo/Hall-2F/state')!) as { active: string[] }).active, ['Vape']);

    // Home Assistant presses Silence: the alarm goes silenced, and the new status is published.
    await client.publishAsync(silence.command_topic, silence.payload_press, { qos: 1 });
    await waitFor('the alarm silenced', () => ((JSON.parse(seen.get('vigil/north/alarm/cam/status') ?? '{}') as { state?: string }).state === 'silenced' ? true : undefined));

    step('Silence pressed, alarm silenced');

    // The site dies: the broker publishes its will (keep-alive 15 s → within ~23 s).
    const t0 = Date.now();
    red.site.child.kill('SIGKILL');
    await waitFor('the will', () => (seen.get('vigil/north/online') === 'false' ? true : undefined), 600, 100);
    log(`examples on ${broker.kind}: site offline through its will after ${Date.now() - t0} ms (keep-alive 15 s)`);
    delete red.site;
  });
});
