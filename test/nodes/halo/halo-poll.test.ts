/**
 * halo-sensor + halo-poll in Node-RED against the HALO simulator's Event Data URL on
 * loopback: the three output modes, Basic/Digest/HTTPS, the one-request-per-second
 * ceiling, start/stop, and errors (red status, one Catch message per change, recovery).
 * Time is a FakeClock (settings.vigilClock): request spacing, intervals and back-off are
 * fired by the test, and "nothing more happens" is checked by advancing it, not by sleeping.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { FakeClock } from '../../../lib/common/clock';
import { HaloSim } from '../../../lib/halo/sim';
import { calls, coreNode, freePort, helper, nodeModule, settle, untilClock } from '../../helpers/nodered';
import { withCatalog } from './catalog';

type Flow = Array<Record<string, unknown>>;
type Msg = NodeMessage & { payload: Record<string, unknown>; error?: { message: string } };

// Node-RED's core Catch node, from the Node-RED under test (4.x, or 5.x for test:nr5)
const catchNode = coreNode('core/common/25-catch.js') as (RED: NodeAPI) => void;
const modules = [withCatalog(nodeModule('halo-sensor') as (RED: NodeAPI) => void, 'halo-sensor'), withCatalog(nodeModule('halo-poll') as (RED: NodeAPI) => void, 'halo-poll'), catchNode];

describe('halo-poll with halo-sensor (against halo-sim)', function () {
  let sim: HaloSim | undefined;
  let clock: FakeClock;
  const until = (predicate: () => boolean, what: string): Promise<void> => untilClock(clock, predicate, what);

  beforeEach(() => {
    clock = new FakeClock(Date.now());
    helper.settings({ vigilClock: clock } as never);
  });

  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    await sim?.close();
    sim = undefined;
  });

  async function startSim(auth: 'basic' | 'digest' | 'none', port = 0): Promise<HaloSim> {
    sim = new HaloSim({ device: { name: 'Sim-1' }, serve: { httpPort: port, httpsPort: 0, auth, username: 'admin', password: 'pw' } });
    await sim.start();
    return sim;
  }

  async function load(sensor: Record<string, unknown>, poll: Record<string, unknown>, creds = { username: 'admin', password: 'pw' }): Promise<{ node: Node; out: Msg[]; caught: Msg[] }> {
    const flow: Flow = [
      { id: 'tab1', type: 'tab', label: 'halo' },
      { id: 'sens', type: 'halo-sensor', z: 'tab1', name: 'Lab-HALO', host: '127.0.0.1', https: false, auth: 'auto', ...sensor },
      { id: 'poll', type: 'halo-poll', z: 'tab1', sensor: 'sens', interval: 3600, output: 'changes', wires: [['out']], ...poll },
      { id: 'out', type: 'helper', z: 'tab1' },
      { id: 'c1', type: 'catch', z: 'tab1', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab1' },
    ];
    await helper.load(modules as never, flow as never, { sens: creds } as never);
    const out: Msg[] = [];
    const caught: Msg[] = [];
    helper.getNode('out').on('input', (m: object) => out.push(m as Msg));
    helper.getNode('caught').on('input', (m: object) => caught.push(m as Msg));
    return { node: helper.getNode('poll'), out, caught };
  }

  it('changes mode (Digest, auto): every event first, then only what changed', async () => {
    const s = await startSim('digest');
    const { node, out } = await load({ port: s.ports.http }, { output: 'changes' });
    await until(() => out.length === 26, 'first poll');
    const co2 = out.find((m) => m.topic === 'Lab-HALO/CO2cal');
    assert.equal(co2?.payload.threshold, 1000);
    assert.equal(co2?.payload.previous, null);
    s.state.set('Vape', 9);
    node.receive({ payload: 'poll' });
    await until(() => out.length === 27, 'change');
    assert.equal(out[26].topic, 'Lab-HALO/Vape');
    assert.equal(out[26].payload.kind, 'set');
    assert.equal(out[26].payload.value, 9);
  });

  it('snapshot mode (Basic)', async () => {
    const s = await startSim('basic');
    const { out } = await load({ port: s.ports.http, auth: 'basic' }, { output: 'snapshot' });
    await until(() => out.length === 1, 'snapshot');
    assert.equal(out[0].topic, 'Lab-HALO/snapshot');
    assert.equal(out[0].payload.device, 'Lab-HALO');
    assert.equal(typeof out[0].payload.polledAt, 'number');
    assert.equal(Object.keys(out[0].payload.events as object).length, 26);
  });

  it('transitions mode over HTTPS with a self-signed certificate (Digest)', async () => {
    const s = await startSim('digest');
    s.state.set('Help');
    const { node, out } = await load({ port: s.ports.https, https: true, rejectUnauthorized: false, auth: 'digest' }, { output: 'transitions' });
    await until(() => out.length === 1, 'set already at start');
    assert.deepEqual([out[0].topic, out[0].payload.kind, out[0].payload.active], ['Lab-HALO/Help', 'set', true]);
    s.state.reset('Help');
    node.receive({ payload: 'now' });
    await until(() => out.length === 2, 'reset edge');
    assert.equal(out[1].payload.kind, 'reset');
    // shaped like halo-in output 1: its payload fields, and msg.raw as text
    assert.deepEqual(Object.keys(out[1].payload).sort(), ['active', 'device', 'event', 'kind', 'receivedAt', 'remote', 'source', 'threshold', 'tokens', 'value'].sort());
    assert.equal((out[1].payload.tokens as Record<string, string>).EID, 'Help');
    const raw = (out[1] as Msg & { raw?: unknown }).raw;
    assert.equal(typeof raw, 'string');
    assert.deepEqual(Object.keys(JSON.parse(raw as string) as object), ['Help']);
  });

  it('a thresholds path that fails (HTTP 404): one warning, events still polled, nothing for Catch', async () => {
    const s = await startSim('digest');
    const { node, out, caught } = await load({ port: s.ports.http, thresholdsPath: '/api/not-here' }, { output: 'snapshot' });
    // the spy's own history: the warning may come before a listener could be attached
    const warns = (node as unknown as { warn: { args: unknown[][] } }).warn.args;
    await until(() => out.length === 1, 'snapshot');
    await until(() => warns.length === 1, 'warning');
    assert.match(String(warns[0][0]), /could not read the HALO thresholds .*404/);
    node.receive({ payload: 'poll' });
    await until(() => out.length === 2, 'second poll');
    assert.equal(warns.length, 1);
    assert.equal(caught.length, 0);
    assert.ok(!(node as unknown as { error: { called: boolean } }).error.called);
  });

  it('rate limit: 100 inputs within a second cause at most 2 requests', async () => {
    const s = await startSim('basic');
    const { node, out } = await load({ port: s.ports.http, auth: 'basic', thresholdsPath: '' }, { output: 'snapshot' });
    await until(() => out.length === 1, 'first poll');
    const before = s.requests;
    for (let i = 0; i < 100; i++) node.receive({ payload: i }); // a burst, well inside one second
    await until(() => out.length >= 3, 'the polls the burst causes');
    assert.equal(s.requests - before, 2, 'one request for the first input, one for all the others');
    clock.advance(1200); // longer than the 1 s spacing: nothing else follows
    await settle();
    assert.deepEqual(clock.dueIn(), [3600_000 - 1200], 'only the next interval poll is pending');
    assert.equal(s.requests - before, 2);
    assert.equal(out.length, 3);
  });

  it('start / stop', async () => {
    const s = await startSim('none');
    const { node, out } = await load({ port: s.ports.http, auth: 'none' }, { output: 'snapshot', interval: 1 });
    await until(() => out.length >= 1, 'polling');
    const statuses = calls(node, 'status');
    node.receive({ payload: 'stop' });
    await until(() => statuses.some((c) => /paused/.test(String((c.args[0] as { text?: string }).text))), 'paused status');
    await until(() => clock.pending === 0, 'a poll already under way to finish'); // no interval timer once stopped
    await settle();
    const n = out.length;
    clock.advance(5000);
    await settle();
    assert.equal(clock.pending, 0, 'no poll started while stopped');
    assert.equal(out.length, n, 'no polls while stopped');
    node.receive({ payload: 'start' });
    await until(() => out.length > n, 'polling again');
  });

  it('errors: red status, one Catch message per change of error, back-off, recovery logged', async () => {
    const port = await freePort(); // nothing listens there: connections are refused
    const { node, caught } = await load({ port, auth: 'auto' }, { output: 'snapshot', interval: 1 });
    const statuses = calls(node, 'status');
    const reds = (): number => statuses.filter((c) => (c.args[0] as { fill?: string }).fill === 'red').length;
    await until(() => caught.length === 1, 'first error');
    assert.match(String(caught[0].error?.message), /refused/);
    assert.equal(caught[0].payload.code, 'refused');
    const before = reds();
    node.receive({ payload: 'poll' });
    node.receive({ payload: 'poll' });
    // each input shows the status, and so does each failed poll: both polls have failed again
    await until(() => reds() >= before + 4, 'two more failed polls');
    await settle();
    assert.equal(caught.length, 1, 'the same error is reported once');
    // a HALO with Digest, but our password is wrong: a new error
    const s = await startSim('digest');
    await helper.unload();
    const second = await load({ port: s.ports.http, auth: 'auto' }, { output: 'snapshot', interval: 1 }, { username: 'admin', password: 'wrong' });
    await until(() => second.caught.length === 1, 'auth error');
    assert.equal(second.caught[0].payload.code, 'auth');
    assert.equal(second.caught[0].payload.status, 401);
    await helper.unload();
    // right password: no error
    const third = await load({ port: s.ports.http, auth: 'auto' }, { output: 'snapshot', interval: 1 });
    await until(() => third.out.length === 1, 'good poll');
    assert.equal(third.caught.length, 0);
  });

  it('recovery after errors is logged and shown', async () => {
    // The sensor's port is a front on port 0 that first drops every connection (the HALO
    // is down), then passes them on to a simulator: no port is picked before use.
    let halo: number | undefined;
    const open = new Set<net.Socket>();
    const front = net.createServer((c) => {
      c.on('error', () => undefined);
      if (halo === undefined) return void c.destroy();
      const up = net.connect(halo, '127.0.0.1');
      open.add(c).add(up);
      up.on('error', () => c.destroy());
      c.pipe(up).pipe(c);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (front.address() as net.AddressInfo).port;
      const { node, out, caught } = await load({ port, auth: 'none' }, { output: 'snapshot', interval: 1 });
      const logs = calls(node, 'log');
      await until(() => caught.length === 1, 'connection dropped');
      halo = (await startSim('none')).ports.http;
      node.receive({ payload: 'poll' });
      await until(() => out.length === 1, 'recovered poll');
      await until(() => logs.some((c) => /answers again/.test(String(c.args[0]))), 'recovery log');
    } finally {
      for (const c of open) c.destroy();
      await new Promise<void>((r) => front.close(() => r()));
    }
  });

  it('without a sensor: red status and done(err) on input', async () => {
    const flow: Flow = [{ id: 'poll', type: 'halo-poll', sensor: '', interval: 10, output: 'changes', wires: [[]] }];
    await helper.load(modules as never, flow as never);
    const node = helper.getNode('poll');
    const errors = calls(node, 'error');
    node.receive({ payload: 1 });
    await until(() => errors.length >= 1, 'error');
  });
});
