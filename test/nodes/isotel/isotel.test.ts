/**
 * The Isotel nodes in Node-RED (node-red-node-test-helper) against isotel-sim on loopback:
 * IDENT, REPLY/HREPLY, ordered replies, 504, CONNECT/SIGNAL/DISCONNECT, run-time commands,
 * reconnect with re-IDENT and re-subscribe, NOTIFYs queued while down, STOP, bad input.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { NodeMessage } from 'node-red';
import { FakeClock } from '../../../lib/common/clock';
import type { IsotelClient } from '../../../lib/isotel/client';
import { IsotelSim, SimService } from '../../../lib/isotel/sim';
import type { IsotelServiceNode } from '../../../nodes/isotel-service/service-types';
import { loadEditorHelpers } from '../../helpers/editor';
import { calls, helper, nodeModule, repoRoot, statusTexts as texts, until, untilClock } from '../../helpers/nodered';

const modules = ['isotel-service', 'isotel-in', 'isotel-reply', 'isotel-signal', 'isotel-notify'].map(nodeModule) as Parameters<typeof helper.load>[0];

type Flow = Array<Record<string, unknown>>;

const SVC = 'svc1';
const NAME = 'test-service';

describe('isotel nodes (against isotel-sim on loopback)', function () {
  let sim: IsotelSim;

  beforeEach(async () => {
    sim = new IsotelSim({
      port: 0, // the OS picks; sim.port tells the service where
      httpPort: 0,
      params: [
        { uri: '/me/device0/ec/E', intervalMs: 3_600_000, value: () => 12.75 },
        { uri: '/me/device0/ec/T', intervalMs: 3_600_000, value: () => 21.5 },
      ],
      refuse: ['/me/device0/ec/T'],
    });
    await sim.start();
  });

  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    await sim.stop();
  });

  function service(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { id: SVC, type: 'isotel-service', name: NAME, host: '127.0.0.1', port: sim.port, vendor: 'Vigil', version: '9.9', requestTimeout: 10, queueSize: 1000, ...extra };
  }

  async function load(flow: Flow): Promise<void> {
    await helper.load(modules, flow as never);
  }

  async function connected(): Promise<SimService> {
    await until(() => sim.service(NAME) !== undefined, 'the service to connect and IDENT');
    return sim.service(NAME) as SimService;
  }

  /** The service node's client. */
  function client(): IsotelClient {
    return (helper.getNode(SVC) as unknown as IsotelServiceNode).client;
  }

  /** Stopped for good: two minutes on the flow clock pass and no retry is even scheduled. */
  function noRetry(clock: FakeClock): void {
    clock.advance(120_000);
    assert.equal(client().state.state, 'stopped');
    assert.equal(clock.pending, 0, 'no timer left: nothing will reconnect');
    assert.equal(sim.connections.size, 0);
  }

  function kinds(s: SimService): string[] {
    return s.received.map((m) => m.kind + ('uri' in m && m.uri ? ` ${m.uri}` : ''));
  }

  function http(path: string): Promise<{ status: number; type: string; body: string }> {
    return fetch(`http://127.0.0.1:${sim.httpPort}${path}`).then(async (r) => ({ status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() }));
  }

  const inReplyFlow = (extra: Record<string, unknown> = {}): Flow => [
    service(extra),
    { id: 'in1', type: 'isotel-in', service: SVC, wires: [['out1']] },
    { id: 'out1', type: 'helper' },
    { id: 'rep1', type: 'isotel-reply', service: SVC },
  ];

  /** Deploy service → isotel-in → out1 and isotel-reply, wait for the link: the requests the flow sees and the reply node. */
  async function inReply(extra: Record<string, unknown> = {}): Promise<{ msgs: NodeMessage[]; rep: ReturnType<typeof helper.getNode> }> {
    await load(inReplyFlow(extra));
    await connected();
    const msgs: NodeMessage[] = [];
    helper.getNode('out1').on('input', (m: NodeMessage) => msgs.push(m));
    return { msgs, rep: helper.getNode('rep1') };
  }

  it('sends IDENT on connect and answers ?action=ident itself', async () => {
    await load(inReplyFlow());
    const s = await connected();
    assert.deepEqual(s.ident, { name: NAME, vendor: 'Vigil', version: '9.9' });
    const r = await http(`/api/v1/me/services/${NAME}?action=ident`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { name: NAME, vendor: 'Vigil', version: '9.9' });
    const st = await http(`/api/v1/me/services/${NAME}.json?action=status`);
    assert.equal(JSON.parse(st.body).status, 'OK');
  });

  it('relays a request to isotel-in and answers REPLY / HREPLY from isotel-reply', async () => {
    const { msgs, rep } = await inReply();
    const p1 = http(`/api/v1/me/services/${NAME}?action=read&id=7`);
    await until(() => msgs.length === 1, 'request 1');
    assert.equal(msgs[0].topic, 'read');
    assert.deepEqual(msgs[0].payload, { action: 'read', id: '7' });
    rep.receive({ ...msgs[0], payload: { value: 123 } });
    const r1 = await p1;
    assert.deepEqual([r1.status, r1.type, JSON.parse(r1.body)], [200, 'application/json', { value: 123 }]);
    const p2 = http(`/api/v1/me/services/${NAME}?action=page`);
    await until(() => msgs.length === 2, 'request 2');
    rep.receive({ ...msgs[1], payload: '<h1>hi</h1>', statusCode: 201, mime: 'text/html' } as NodeMessage);
    const r2 = await p2;
    assert.deepEqual([r2.status, r2.type, r2.body], [201, 'text/html', '<h1>hi</h1>']);
  });

  it('hands ?action=status to the flow when statusToFlow is set; isotel-reply without its own service uses msg._isotel', async () => {
    await load([
      service({ statusToFlow: true }),
      { id: 'in1', type: 'isotel-in', service: SVC, wires: [['out1']] },
      { id: 'out1', type: 'helper' },
      { id: 'rep2', type: 'isotel-reply' },
    ]);
    await connected();
    const msgs: NodeMessage[] = [];
    helper.getNode('out1').on('input', (m: NodeMessage) => msgs.push(m));
    const p = http(`/api/v1/me/services/${NAME}?action=status`);
    await until(() => msgs.length === 1, 'status request in the flow');
    assert.equal(msgs[0].topic, 'status');
    helper.getNode('rep2').receive({ ...msgs[0], payload: { mine: true } });
    const r = await p;
    assert.deepEqual([r.status, JSON.parse(r.body)], [200, { mine: true }]);
  });

  it('keeps replies in request order when the flow answers out of order', async () => {
    const { msgs, rep } = await inReply();
    const order: string[] = [];
    const a = http(`/api/v1/me/services/${NAME}?q=a`).then((r) => (order.push('a'), r));
    await until(() => msgs.length === 1, 'request a');
    const b = http(`/api/v1/me/services/${NAME}?q=b`).then((r) => (order.push('b'), r));
    await until(() => msgs.length === 2, 'request b');
    rep.receive({ ...msgs[1], payload: 'B' });
    // B is held by the service until A is answered: nothing was written for either.
    assert.deepEqual([client().stats.replies, client().pendingRequests], [0, 2]);
    rep.receive({ ...msgs[0], payload: 'A' });
    const [ra, rb] = await Promise.all([a, b]);
    assert.deepEqual(order, ['a', 'b']);
    assert.deepEqual([ra.body, rb.body], ['A', 'B']);
  });

  it('answers HREPLY 504 when the flow does not reply in time, and refuses the late reply', async () => {
    const { msgs, rep } = await inReply({ requestTimeout: 0.2 });
    const r = await http(`/api/v1/me/services/${NAME}?action=slow`);
    assert.deepEqual([r.status, r.body], [504, 'timeout']);
    const errors = calls(rep, 'error');
    rep.receive({ ...msgs[0], payload: 'too late' });
    await until(() => errors.length === 1, 'late reply error');
    assert.match(String(errors[0].args[0]), /isotel-reply\.errors\.late/);
  });

  it('subscribes (CONNECT with options), passes SIGNALs on, reports a refused CONNECT, DISCONNECTs on close', async () => {
    await load([
      service(),
      { id: 'sig1', type: 'isotel-signal', service: SVC, uris: ['me/device0/ec/E', '/me/device0/ec/T'], debounceTime: 500, sendData: true, wires: [['out1']] },
      { id: 'out1', type: 'helper' },
    ]);
    const sig = helper.getNode('sig1');
    const errors = calls(sig, 'error');
    const statuses = calls(sig, 'status');
    const s = await connected();
    await until(() => s.subs.has('/me/device0/ec/E'), 'subscription');
    assert.deepEqual(s.received.find((m) => m.kind === 'connect' && m.uri === '/me/device0/ec/E'), {
      kind: 'connect',
      uri: '/me/device0/ec/E',
      body: { debounce_time: 500, send_data: true },
    });
    await until(() => errors.length === 1, 'refused CONNECT error');
    assert.match(String(errors[0].args[0]), /isotel-signal\.errors\.refused/);
    assert.equal((errors[0].args[1] as NodeMessage).topic, '/me/device0/ec/T');
    await until(() => texts(statuses).includes('isotel-signal.status.refused'), 'refused status');
    const msgs: NodeMessage[] = [];
    helper.getNode('out1').on('input', (m: NodeMessage) => msgs.push(m));
    sim.setValue('/me/device0/ec/E', 13.5);
    await until(() => msgs.length === 1, 'SIGNAL');
    assert.equal(msgs[0].topic, '/me/device0/ec/E');
    assert.deepEqual((msgs[0].payload as { E: unknown }).E, { value: '13.50' });
    await helper.unload();
    await until(() => s.unbound, 'bare DISCONNECT');
    assert.ok(kinds(s).includes('disconnect /me/device0/ec/E'));
  });

  it('two isotel-signal nodes on one URI: merged CONNECT options (smallest debounce, data if any wants it), restored when one leaves', async () => {
    await load([
      service(),
      { id: 'sig1', type: 'isotel-signal', service: SVC, uris: ['/me/device0/ec/E'], debounceTime: 5000, sendData: false, wires: [['out1']] },
      { id: 'sig2', type: 'isotel-signal', service: SVC, uris: ['/me/device0/ec/E'], debounceTime: 500, sendData: true, wires: [['out2']] },
      { id: 'out1', type: 'helper' },
      { id: 'out2', type: 'helper' },
    ]);
    const warns = calls(helper.getNode(SVC), 'warn');
    const s = await connected();
    const simSub = (): [number, boolean] | undefined => {
      const x = s.subs.get('/me/device0/ec/E');
      return x && [x.debounceMs, x.sendData];
    };
    await until(() => simSub()?.[0] === 500, 'merged options at the IoT');
    assert.deepEqual(simSub(), [500, true]);
    assert.ok(warns.some((c) => /its subscribers ask for different options/.test(String(c.args[0]))));
    const got: string[] = [];
    helper.getNode('out1').on('input', () => got.push('sig1'));
    helper.getNode('out2').on('input', () => got.push('sig2'));
    sim.setValue('/me/device0/ec/E', 14);
    await until(() => got.length === 2, 'the SIGNAL at both nodes');
    helper.getNode('sig2').receive({ topic: 'disconnect', payload: '/me/device0/ec/E' });
    await until(() => simSub()?.[0] === 5000, "sig1's options restored");
    assert.deepEqual(simSub(), [5000, false]);
    assert.ok(!kinds(s).includes('disconnect /me/device0/ec/E'), 'sig1 still watches it');
  });

  it('changes subscriptions at run time and connects / disconnects the link on command', async () => {
    await load([service(), { id: 'sig1', type: 'isotel-signal', service: SVC, uris: [], wires: [['out1']] }, { id: 'out1', type: 'helper' }]);
    const sig = helper.getNode('sig1');
    const s = await connected();
    sig.receive({ topic: 'connect', payload: ['/me/device0/ec/E'] });
    await until(() => s.subs.has('/me/device0/ec/E'), 'run-time CONNECT');
    const msgs: NodeMessage[] = [];
    helper.getNode('out1').on('input', (m: NodeMessage) => msgs.push(m));
    sim.setValue('/me/device0/ec/E', 1);
    await until(() => msgs.length === 1, 'SIGNAL');
    sig.receive({ topic: 'disconnect', payload: '/me/device0/ec/E' });
    await until(() => !s.subs.has('/me/device0/ec/E'), 'run-time DISCONNECT');
    const errors = calls(sig, 'error');
    sig.receive({ topic: 'connect', payload: 'not a uri' });
    sig.receive({ topic: 'frobnicate' });
    await until(() => errors.length === 2, 'two errors');
    // the link itself
    sig.receive({ topic: 'disconnect' });
    await until(() => s.unbound && sim.connections.size === 0, 'link closed');
    sig.receive({ topic: 'connect' });
    await until(() => sim.connections.size === 1 && sim.service(NAME) !== undefined, 'link re-opened');
  });

  it('reconnects after the IoT drops the socket: status, re-IDENT, re-subscribe; NOTIFYs queued while down arrive exactly once', async function () {
    const clock = new FakeClock(1_700_000_000_000);
    helper.settings({ vigilClock: clock } as never);
    await load([
      service(),
      { id: 'sig1', type: 'isotel-signal', service: SVC, uris: ['/me/device0/ec/E'], wires: [[]] },
      { id: 'not1', type: 'isotel-notify', service: SVC, severity: 'API' },
    ]);
    const sig = helper.getNode('sig1');
    const notify = helper.getNode('not1');
    const statuses = calls(sig, 'status');
    const s1 = await connected();
    await until(() => s1.subs.has('/me/device0/ec/E'), 'subscribed');
    // Keep the IoT away long enough to queue: close the listener, then drop the socket.
    const port = sim.port;
    await sim.stop();
    await until(() => texts(statuses).includes('isotel-service.status.reconnecting'), 'reconnecting status');
    notify.receive({ payload: 'while down 1' });
    notify.receive({ payload: { message: 'while down 2', severity: 'SYSLOG', receiver: 'app1' } });
    sim = new IsotelSim({ port, httpPort: 0, params: [{ uri: '/me/device0/ec/E', intervalMs: 3_600_000 }] });
    await sim.start();
    assert.equal(client().stats.queued, 2);
    clock.advance(1000); // the first retry (back-off 1 s, jitter only shortens it)
    const s2 = await connected();
    await until(() => sim.activity.length === 2 && s2.subs.has('/me/device0/ec/E'), 'queued NOTIFYs and re-subscribe');
    assert.equal(kinds(s2)[0], 'ident');
    // Nothing is left to send: no NOTIFY can arrive twice.
    assert.equal(client().stats.queued, 0);
    assert.deepEqual(
      sim.activity.map((a) => [a.module, a.severity, a.message, a.receiver]),
      [
        [NAME, 'API', 'while down 1', null],
        [NAME, 'SYSLOG', 'while down 2', 'app1'],
      ],
    );
    await until(() => texts(statuses).pop() === 'isotel-signal.status.connected', 'connected status');
  });

  it('status: isotel-signal counts its own subscriptions; nodes that do not subscribe show plain "connected"', async () => {
    await load([
      service(),
      { id: 'sig1', type: 'isotel-signal', service: SVC, uris: ['/me/device0/ec/E'], wires: [[]] },
      { id: 'in1', type: 'isotel-in', service: SVC, wires: [[]] },
      { id: 'not1', type: 'isotel-notify', service: SVC },
    ]);
    const sig = calls(helper.getNode('sig1'), 'status');
    const inn = calls(helper.getNode('in1'), 'status');
    const not = calls(helper.getNode('not1'), 'status');
    const logs = calls(helper.getNode(SVC), 'log');
    const s = await connected();
    await until(() => s.subs.has('/me/device0/ec/E'), 'subscribed');
    await until(() => texts(sig).pop() === 'isotel-signal.status.connected', 'signal connected status');
    await until(() => texts(inn).pop() === 'isotel-service.status.connected' && texts(not).pop() === 'isotel-service.status.connected', 'plain connected status');
    // A subscription changing while connected: the other nodes' status is left alone, and
    // the service does not log "connected" again.
    const before = [inn.length, not.length];
    helper.getNode('sig1').receive({ topic: 'connect', payload: '/me/device0/ec/T' });
    await until(() => s.received.some((m) => m.kind === 'connect' && m.uri === '/me/device0/ec/T'), 'run-time CONNECT');
    await until(() => texts(sig).pop() === 'isotel-signal.status.refused', 'refused status');
    assert.deepEqual([inn.length, not.length], before);
    assert.equal(logs.filter((c) => /isotel-service\.log\.connected/.test(String(c.args[0]))).length, 1);
    // The catalog texts: the service's is plain, the signal's carries the count.
    const catalog = (type: string): { [k: string]: { status: Record<string, string> } } =>
      JSON.parse(fs.readFileSync(`${repoRoot}/dist/nodes/${type}/locales/en-US/${type}.json`, 'utf8'));
    assert.equal(catalog('isotel-service')['isotel-service'].status.connected, 'connected');
    assert.equal(catalog('isotel-signal')['isotel-signal'].status.connected, 'connected (__count__ subscriptions)');
    assert.equal(catalog('isotel-signal')['isotel-signal'].status.connected_one, 'connected (1 subscription)');
  });

  it('STOP from the IoT: DISCONNECT, status "stopped by IoT", no reconnect until a connect command', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    helper.settings({ vigilClock: clock } as never);
    await load([service(), { id: 'sig1', type: 'isotel-signal', service: SVC, uris: [], wires: [[]] }]);
    const sig = helper.getNode('sig1');
    const statuses = calls(sig, 'status');
    const s = await connected();
    const r = await http(`/api/v1/me/services/${NAME}?action=stop`);
    assert.equal(r.status, 200);
    await until(() => s.unbound && sim.connections.size === 0, 'DISCONNECT + close');
    await until(() => texts(statuses).includes('isotel-service.status.stopped'), 'stopped status');
    noRetry(clock);
    sig.receive({ topic: 'connect' });
    await until(() => sim.service(NAME) !== undefined, 'reconnect on command');
  });

  it('a relayed {"action":"stop"} request stops the service like STOP: answered, DISCONNECT, "stopped by IoT", no reconnect', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    helper.settings({ vigilClock: clock } as never);
    await sim.stop();
    sim = new IsotelSim({ port: 0, httpPort: 0, params: [{ uri: '/me/device0/ec/E', intervalMs: 3_600_000 }], stopAs: 'request' });
    await sim.start();
    await load([...inReplyFlow(), { id: 'sig1', type: 'isotel-signal', service: SVC, uris: ['/me/device0/ec/E'], wires: [[]] }]);
    const sig = helper.getNode('sig1');
    const statuses = calls(sig, 'status');
    const msgs: NodeMessage[] = [];
    helper.getNode('out1').on('input', (m: NodeMessage) => msgs.push(m));
    const s = await connected();
    await until(() => s.subs.has('/me/device0/ec/E'), 'subscribed');
    const r = await http(`/api/v1/me/services/${NAME}?action=stop`);
    assert.deepEqual([r.status, r.type, JSON.parse(r.body)], [200, 'application/json', { status: 'OK', action: 'stop' }]);
    await until(() => s.unbound && sim.connections.size === 0, 'DISCONNECT + close');
    assert.deepEqual(kinds(s).slice(-2), ['reply', 'disconnect']);
    await until(() => texts(statuses).includes('isotel-service.status.stopped'), 'stopped status');
    assert.equal(msgs.length, 0, 'the stop request does not come out of isotel-in');
    noRetry(clock);
    sig.receive({ topic: 'connect' });
    await until(() => sim.service(NAME) !== undefined, 'reconnect on command');
  });

  it('bad input: plain text and malformed JSON reach isotel-in as text (a warning for the JSON); bad messages to reply/notify fail clearly', async () => {
    const clock = new FakeClock(1_700_000_000_000); // the reconnect's back-off, fired by untilClock
    helper.settings({ vigilClock: clock } as never);
    await load([...inReplyFlow(), { id: 'not1', type: 'isotel-notify', service: SVC }]);
    const s = await connected();
    const svc = helper.getNode(SVC);
    const warns = calls(svc, 'warn');
    const msgs: NodeMessage[] = [];
    helper.getNode('out1').on('input', (m: NodeMessage) => msgs.push(m));
    const answers: string[] = [];
    sim.on('message', (_c, m) => m.kind === 'reply' && answers.push(String(m.body)));
    s.write('{"action":\n\nWHAT is this\n\nON\n\n');
    await until(() => msgs.length === 3, 'three requests in the flow');
    assert.deepEqual(
      msgs.map((m) => [m.payload, m.topic]),
      [
        ['{"action":', undefined],
        ['WHAT is this', undefined],
        ['ON', undefined],
      ],
    );
    await until(() => warns.length === 1, 'a warning');
    assert.match(String(warns[0].args[0]), /malformed JSON: passed on to the flow as text/);
    for (const m of msgs) helper.getNode('rep1').receive({ ...m, payload: `got ${String(m.payload)}` });
    await until(() => answers.length === 3, 'the flow answers them');
    assert.deepEqual(answers, ['got {"action":', 'got WHAT is this', 'got ON']);
    const rep = helper.getNode('rep1');
    const not = helper.getNode('not1');
    const errors = calls(rep, 'error');
    const errors2 = calls(not, 'error');
    rep.receive({ payload: 'no ref' });
    not.receive({ payload: { severity: 'API' } });
    await until(() => errors.length === 1 && errors2.length === 1, 'two errors');
    // (the test helper's RED._ returns catalog keys)
    assert.match(String(errors[0].args[0]), /isotel-reply\.errors\.noRef/);
    assert.match(String(errors2[0].args[0]), /isotel-notify\.errors\.noMessage/);
    // A message growing past 1 MiB with no terminator: dropped, warned, link re-established.
    const before = sim.connections.size;
    assert.equal(before, 1);
    s.write('x'.repeat(1024 * 1024 + 10));
    await until(() => warns.some((c) => /grew past 1048576 bytes/.test(String(c.args[0]))), 'oversize warning');
    await untilClock(clock, () => sim.service(NAME) !== undefined && sim.service(NAME) !== s, 're-established', 60_000);
  });

  it('a CONNECT acknowledgement with a deeply nested body: reported as text, Node-RED keeps answering', async () => {
    await load([service(), { id: 'sig1', type: 'isotel-signal', service: SVC, uris: ['/me/device0/ec/E'], wires: [['out1']] }, { id: 'out1', type: 'helper' }]);
    const sig = helper.getNode('sig1');
    const errors = calls(sig, 'error');
    const s = await connected();
    await until(() => s.subs.has('/me/device0/ec/E'), 'subscribed');
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    s.write(`CONNECT /me/device0/ec/E ${deep}\n\n`);
    await until(() => errors.length === 1, 'the refusal reported');
    const body = (errors[0].args[1] as NodeMessage).payload;
    assert.equal(typeof body, 'string', 'the over-deep body stays text');
    const st = await http(`/api/v1/me/services/${NAME}?action=status`);
    assert.equal(JSON.parse(st.body).status, 'OK');
  });

  it('a deeply nested request to isotel-in wired to two nodes: passed on as text (no stack overflow in the message clone), warned', async () => {
    await load([
      service(),
      { id: 'in1', type: 'isotel-in', service: SVC, wires: [['out1', 'out2']] },
      { id: 'out1', type: 'helper' },
      { id: 'out2', type: 'helper' },
      { id: 'rep1', type: 'isotel-reply', service: SVC },
    ]);
    const s = await connected();
    const warns = calls(helper.getNode(SVC), 'warn');
    const got: NodeMessage[] = [];
    helper.getNode('out1').on('input', (m: NodeMessage) => got.push(m));
    helper.getNode('out2').on('input', (m: NodeMessage) => got.push(m));
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    s.write(`${deep}\n\n`);
    await until(() => got.length === 2, 'the request at both nodes');
    assert.deepEqual(got.map((m) => m.payload), [deep, deep]);
    await until(() => warns.length === 1, 'a warning');
    assert.match(String(warns[0].args[0]), /nested too deeply/);
    const answers: unknown[] = [];
    sim.on('message', (_c, m) => m.kind === 'reply' && answers.push(m.body));
    helper.getNode('rep1').receive({ ...got[0], payload: 'refused: too deep' });
    await until(() => answers.length === 1, 'the flow answers it');
    assert.deepEqual(answers, ['refused: too deep']);
    const st = await http(`/api/v1/me/services/${NAME}?action=status`);
    assert.equal(JSON.parse(st.body).status, 'OK');
  });

  it('a reply held across a redeploy never answers the new connection\'s request', async () => {
    const { msgs } = await inReply();
    void http(`/api/v1/me/services/${NAME}?q=old`);
    await until(() => msgs.length === 1, 'the request before the redeploy');
    const held = msgs[0];
    // Redeploy: the service node (same id) gets a new client and a new connection.
    await helper.unload();
    await until(() => sim.service(NAME) === undefined, 'the old link closed');
    const { msgs: msgs2, rep } = await inReply();
    const p = http(`/api/v1/me/services/${NAME}?q=new`);
    await until(() => msgs2.length === 1, 'the request after the redeploy');
    const errors = calls(rep, 'error');
    rep.receive({ ...held, payload: 'answer to the old request' });
    await until(() => errors.length === 1, 'the held reply refused');
    assert.match(String(errors[0].args[0]), /isotel-reply\.errors\.stale/);
    rep.receive({ ...msgs2[0], payload: 'answer to the new request' });
    const r = await p;
    assert.equal(r.body, 'answer to the new request');
  });

  it('warning throttle: the first 5 of a kind are shown, the rest summed up at the end of the minute; other kinds are counted apart', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    helper.settings({ vigilClock: clock } as never);
    await load([...inReplyFlow()]);
    const s = await connected();
    const warns = calls(helper.getNode(SVC), 'warn');
    s.write('{"action":\n\n'.repeat(7) + 'SIGNAL\n\n');
    await until(() => warns.length >= 6, 'warnings');
    const shown = (): string[] => warns.map((c) => String(c.args[0]));
    assert.equal(shown().filter((w) => /malformed JSON/.test(w)).length, 5, 'two malformed-JSON warnings held back');
    assert.equal(shown().filter((w) => /SIGNAL without a parameter URI/.test(w)).length, 1);
    clock.advance(60_000);
    const summary = (): string[] => shown().filter((w) => /more warning\(s\) like this/.test(w));
    await until(() => summary().length === 1, 'the summary');
    assert.match(summary()[0], /^2 more warning\(s\) like this in the last 60 s \(malformed\); the last: a request with malformed JSON/);
    // The seven requests timed out on the way (at 10 s): five timeout warnings, two more summed up at 70 s.
    assert.equal(shown().filter((w) => /isotel-service\.log\.timeout/.test(w)).length, 5);
    clock.advance(10_000);
    await until(() => summary().length === 2, 'the timeout summary');
    assert.match(summary()[1], /^2 more warning\(s\) like this in the last 60 s \(timeout\)/);
  });

  it('shows an error status without a service, and for a service without host/port', async () => {
    await load([
      { id: 'svcBad', type: 'isotel-service', name: 'x', host: '', port: '' },
      { id: 'in1', type: 'isotel-in', service: 'svcBad', wires: [[]] },
      { id: 'in2', type: 'isotel-in', service: '', wires: [[]] },
    ]);
    const errorLogs = (): string[] =>
      (helper.log().args as unknown[][]).map((a) => a[0] as { level: number; msg: unknown }).filter((e) => e.level === 20).map((e) => String(e.msg));
    await until(() => errorLogs().length >= 2, 'errors logged');
    assert.ok(errorLogs().some((m) => /isotel-service\.errors\.badAddress/.test(m)));
    assert.ok(errorLogs().some((m) => /isotel-in\.errors\.noService/.test(m)));
  });

  it('the editor has no default port (required); every Isotel example and the demo tab carry an explicit host and port', () => {
    const editor = fs.readFileSync(`${repoRoot}/nodes/isotel-service/isotel-service.html`, 'utf8');
    const port = /^\s*port: \{ value: ([^,]*), required: true, validate: V\.port\(\) \},$/m.exec(editor);
    assert.ok(port, 'port setting');
    assert.equal(port[1], "''");
    // The editor's own validator (the shared editor script's): empty and out of range are invalid, a port is valid.
    const validate = loadEditorHelpers().validate.port();
    assert.deepEqual(['', ' ', 0, '0', 65536, '6020.5', 6020, '6020'].map(validate), [false, false, false, false, false, false, true, true]);
    const files = [
      ...fs.readdirSync(`${repoRoot}/examples/Isotel`).map((f) => `${repoRoot}/examples/Isotel/${f}`),
      `${repoRoot}/examples/demo/Isotel.json`,
    ];
    for (const f of files) {
      const services = (JSON.parse(fs.readFileSync(f, 'utf8')) as Flow).filter((n) => n.type === 'isotel-service');
      assert.ok(services.length > 0, f);
      for (const n of services) {
        assert.ok(typeof n.host === 'string' && n.host !== '', `${f}: host`);
        assert.ok(validate(n.port), `${f}: port ${String(n.port)}`);
      }
    }
  });

  it('a connect command to a service without host/port fails clearly instead of retrying in vain', async () => {
    await load([
      { id: 'svcBad', type: 'isotel-service', name: 'x', host: '', port: '' },
      { id: 'sig1', type: 'isotel-signal', service: 'svcBad', uris: [], wires: [[]] },
    ]);
    const sig = helper.getNode('sig1');
    const errors = calls(sig, 'error');
    const statuses = calls(sig, 'status');
    sig.receive({ topic: 'connect' });
    await until(() => errors.length === 1, 'error');
    assert.match(String(errors[0].args[0]), /isotel-service\.errors\.badAddress/);
    assert.ok(!texts(statuses).some((t) => /connecting|reconnecting/.test(t)), texts(statuses).join(', '));
  });
});
