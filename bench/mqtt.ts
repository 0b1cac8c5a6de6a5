/**
 * MQTT benchmark (loopback only, bounded in time): HALO events from 2 sites through a real
 * broker to the central, events/s, beside the broker's own clients alone in the same run.
 *
 * - Vigil: one Node-RED runtime (embedded, in a child process) holding two sites — each
 *   `vigil-mqtt` (role site) → core `mqtt out` with its own `mqtt-broker` connection — and the
 *   central — core `mqtt in` on `vigil/+/#` → `vigil-mqtt` (role central), counting its event
 *   output. Events are halo-in's normalised event objects, QoS 1, fed to both sites at once;
 *   the clock stops when the central has every event (distinct values counted: loss and
 *   duplicates are reported).
 * - Baseline: `mosquitto_sub -q 1` on `bench/#` with two `mosquitto_pub -q 1 -l` (one per
 *   "site") sending the same JSON lines; when mosquitto's clients are not installed, the same
 *   with two mqtt.js publishers and one mqtt.js subscriber (what Node-RED's nodes use).
 * The broker is Debian's mosquitto when installed, else aedes (test/helpers/broker.ts), with
 * mosquitto's per-client queue raised (its default 1000 drops a burst the central has not read).
 * Each event also updates the device's retained state topic: a site publishes 2 messages per event.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { embedNodeRed } from './lib/embedded-red';

const PER_SITE = 5_000;
const DEADLINE_MS = 60_000;
const SITES = ['a', 'b'];

function eventPayload(site: string, i: number): Record<string, unknown> {
  return { device: 'Hall-2F', event: 'Vape', kind: i % 2 ? 'set' : 'reset', active: i % 2 === 1, value: i, threshold: 50, receivedAt: 1_780_000_000_000 + i, remote: '10.0.0.9:5000', source: site, tokens: { NAME: 'Hall-2F', EID: 'Vape', VAL: String(i) } };
}

function brokerConfig(id: string, port: number, clientid: string): Record<string, unknown> {
  return { id, type: 'mqtt-broker', name: clientid, broker: '127.0.0.1', port: String(port), clientid, autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true, autoUnsubscribe: true, birthTopic: '', closeTopic: '', willTopic: '', userProps: '', sessionExpiry: '' };
}

const hasBin = (name: string): boolean => (process.env.PATH ?? '').split(':').some((d) => fs.existsSync(`${d}/${name}`));

function waitExit(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c))));
}

/** mosquitto_sub + two mosquitto_pub, the same lines: events/s. */
async function mosquittoClients(port: number): Promise<{ rate: number; received: number }> {
  const total = PER_SITE * SITES.length;
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', 'bench/#', '-C', String(total), '-i', `bench-sub-${process.pid}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let received = 0;
  sub.stdout.on('data', (d: Buffer) => {
    for (const b of d) if (b === 10) received++;
  });
  await new Promise((r) => setTimeout(r, 300)); // subscribed
  const t0 = performance.now();
  const pubs = SITES.map((site) => {
    const p = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', `bench/${site}`, '-l', '-i', `bench-pub-${site}-${process.pid}`], { stdio: ['pipe', 'ignore', 'inherit'] });
    const lines: string[] = [];
    for (let i = 1; i <= PER_SITE; i++) lines.push(JSON.stringify(eventPayload(site, i)));
    p.stdin.end(`${lines.join('\n')}\n`);
    return p;
  });
  const timer = setTimeout(() => sub.kill(), DEADLINE_MS);
  await waitExit(sub);
  clearTimeout(timer);
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(pubs.map(waitExit));
  return { rate: received / secs, received };
}

/** Two mqtt.js publishers and one subscriber, QoS 1. */
async function mqttJsClients(port: number): Promise<{ rate: number; received: number }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS entry of the mqtt devDependency
  const mqtt = require('mqtt') as typeof import('mqtt');
  const total = PER_SITE * SITES.length;
  const sub = await mqtt.connectAsync({ host: '127.0.0.1', port, protocolVersion: 4, clientId: `bench-sub-${process.pid}` });
  await sub.subscribeAsync('bench/#', { qos: 1 });
  let received = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  sub.on('message', () => ++received === total && done());
  const pubs = await Promise.all(SITES.map((s) => mqtt.connectAsync({ host: '127.0.0.1', port, protocolVersion: 4, clientId: `bench-pub-${s}-${process.pid}` })));
  const t0 = performance.now();
  pubs.forEach((p, k) => {
    for (let i = 1; i <= PER_SITE; i++) p.publish(`bench/${SITES[k]}`, JSON.stringify(eventPayload(SITES[k], i)), { qos: 1 });
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, DEADLINE_MS)))]);
  clearTimeout(timer);
  const secs = (performance.now() - t0) / 1000;
  await Promise.all([sub, ...pubs].map((c) => c.endAsync(true)));
  return { rate: received / secs, received };
}

/**
 * The Vigil side, in a child process (`--vigil-child <brokerPort>`): Node-RED embedded as in
 * production (no test-helper spies recording every call), the flow of two sites and the
 * central, events fed to the sites' vigil-mqtt in batches; prints one `VIGIL-REPORT` line.
 */
async function vigilChild(brokerPort: number): Promise<void> {
  const z = 'bench-tab';
  const flow = [
    { id: z, type: 'tab', label: 'bench' },
    brokerConfig('bench-conn-central', brokerPort, `bench-central-${process.pid}`),
    { id: 'bench-sub', type: 'mqtt in', z, topic: 'vigil/+/#', qos: '1', datatype: 'utf8', broker: 'bench-conn-central', nl: false, rap: true, rh: 0, inputs: 0, wires: [['bench-central']] },
    { id: 'bench-central', type: 'vigil-mqtt', z, role: 'central', wires: [[], ['bench-events']] },
    { id: 'bench-events', type: 'junction', z, wires: [] },
    ...SITES.flatMap((s) => [
      brokerConfig(`bench-conn-${s}`, brokerPort, `bench-site-${s}-${process.pid}`),
      { id: `bench-site-${s}`, type: 'vigil-mqtt', z, role: 'site', site: s, system: 'cam', discovery: false, refreshS: 0, wires: [[`bench-pub-${s}`], []] },
      { id: `bench-pub-${s}`, type: 'mqtt out', z, topic: '', qos: '', retain: '', broker: `bench-conn-${s}`, wires: [] },
    ]),
  ];
  const RED = embedNodeRed('vigil-bench-mqtt-', flow);
  const total = PER_SITE * SITES.length;
  const seen = new Map<string, number>();
  let received = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  // Every event the central emits reaches the junction: counted there.
  RED.hooks.add('onReceive.vigilBench', (evt) => {
    if (evt.destination.id !== 'bench-events') return;
    const p = evt.msg.payload as { site: string; value: number };
    const k = `${p.site}/${p.value}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
    if (++received === total) done();
  });
  await RED.start();
  type Conn = { connected?: boolean } | null;
  for (let i = 0; i < 400; i++) {
    if (['bench-conn-central', ...SITES.map((s) => `bench-conn-${s}`)].every((id) => (RED.nodes.getNode(id) as Conn)?.connected)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300)); // subscribed
  const sites = SITES.map((s) => RED.nodes.getNode(`bench-site-${s}`) as { receive(msg: object): void });
  const t0 = performance.now();
  // In batches, letting the event loop turn between them, as events arriving over the network would.
  for (let i = 1; i <= PER_SITE; i++) {
    sites.forEach((n, k) => n.receive({ topic: 'halo/Hall-2F/Vape', payload: eventPayload(SITES[k], i) }));
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, DEADLINE_MS)))]);
  clearTimeout(timer);
  const rate = received / ((performance.now() - t0) / 1000);
  const duplicates = [...seen.values()].filter((n) => n > 1).length;
  process.stdout.write(`VIGIL-REPORT ${JSON.stringify({ rate, received, distinct: seen.size, duplicates })}\n`);
  await RED.stop();
  fs.rmSync(RED.dir, { recursive: true, force: true });
}

function runVigilChild(brokerPort: number): Promise<{ rate: number; received: number; distinct: number; duplicates: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--vigil-child', String(brokerPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('VIGIL-REPORT '));
      if (line) resolve(JSON.parse(line.slice(13)) as { rate: number; received: number; distinct: number; duplicates: number });
      else reject(new Error(`the Vigil side exited (${code}) without a report: ${out.slice(-500)}`));
    });
  });
}

export async function run(): Promise<void> {
  const { startBroker } = await import('../test/helpers/broker');
  // A burst of QoS 1 messages to one subscriber: mosquitto's default queue (1000 per client)
  // would drop what the central has not read yet, for both sides of the comparison.
  const broker = await startBroker((s) => console.log(s), { maxQueuedMessages: 100_000 });
  try {
    const total = PER_SITE * SITES.length;
    const v = await runVigilChild(broker.port);
    const clients = hasBin('mosquitto_pub') && hasBin('mosquitto_sub');
    const base = clients ? await mosquittoClients(broker.port) : await mqttJsClients(broker.port);
    const k = (n: number): string => (n / 1000).toFixed(2);
    const bytes = JSON.stringify(eventPayload('a', PER_SITE)).length;
    console.log(`MQTT, ${SITES.length} sites -> ${broker.kind} broker -> central, ${PER_SITE} events per site (~${bytes} B JSON), QoS 1:`);
    console.log(`  Vigil: vigil-mqtt site -> mqtt out => mqtt in -> vigil-mqtt central : ${k(v.rate)} k events/s (received ${v.received}/${total}, distinct ${v.distinct}, duplicates ${v.duplicates})`);
    if (!clients) console.log('  (mosquitto_pub / mosquitto_sub are not installed: baseline with mqtt.js clients instead)');
    console.log(`  baseline: ${clients ? '2 x mosquitto_pub -l => mosquitto_sub' : '2 x mqtt.js publish => mqtt.js subscribe'}${' '.repeat(clients ? 24 : 18)}: ${k(base.rate)} k events/s (received ${base.received}/${total})`);
    console.log(`  ratio Vigil / baseline: ${(v.rate / base.rate).toFixed(2)}x (Vigil also publishes each device's retained state: 2 messages per event)`);
  } finally {
    await broker.stop();
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--vigil-child');
  if (i >= 0) {
    vigilChild(Number(process.argv[i + 1])).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  }
}
