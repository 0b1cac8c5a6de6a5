import assert from 'node:assert/strict';
import net from 'node:net';
import { FakeClock } from '../../../lib/common/clock';
import { IsotelClient, IsotelClientOptions, IsotelRequest, LinkState, SubscriptionOwner } from '../../../lib/isotel/client';
import { IsotelMessage } from '../../../lib/isotel/codec';
import { IsotelSim, SimService } from '../../../lib/isotel/sim';
import { until } from '../../helpers/wait';

const IDENT = { name: 'svc-test', vendor: 'Vigil', version: '0.1.0' };

describe('isotel client (lib, against isotel-sim on loopback, FakeClock)', () => {
  let clock: FakeClock;
  let sim: IsotelSim;
  let client: IsotelClient | undefined;
  let states: LinkState[];
  let warnings: string[];

  beforeEach(async () => {
    clock = new FakeClock(1_700_000_000_000);
    sim = new IsotelSim({
      clock,
      httpPort: false,
      params: [{ uri: '/me/device0/ec/E', intervalMs: 1000, value: () => 12.75 }, { uri: '/me/device0/ec/T', intervalMs: 1000, value: () => 21 }],
      refuse: ['/me/device0/ec/T'],
    });
    await sim.start();
    states = [];
    warnings = [];
  });

  afterEach(async () => {
    await client?.close();
    client = undefined;
    await sim.stop();
  });

  function make(extra: Partial<IsotelClientOptions> = {}): IsotelClient {
    const c = new IsotelClient({ host: '127.0.0.1', port: sim.port, ident: IDENT, clock, backoff: { random: () => 0 }, ...extra });
    c.on('state', (s) => states.push(s));
    c.on('warning', (w) => warnings.push(w));
    client = c;
    return c;
  }

  async function connected(c: IsotelClient): Promise<SimService> {
    await until(() => c.state.state === 'connected', 'connected');
    await until(() => sim.service(IDENT.name) !== undefined, 'IDENT at the sim');
    return sim.service(IDENT.name) as SimService;
  }

  /** A client (`make(extra)`) that records its requests, connected to the sim. */
  async function live(extra: Partial<IsotelClientOptions> = {}): Promise<{ c: IsotelClient; reqs: IsotelRequest[]; s: SimService }> {
    const c = make(extra);
    const reqs: IsotelRequest[] = [];
    c.on('request', (r) => reqs.push(r));
    c.connect();
    return { c, reqs, s: await connected(c) };
  }

  function kinds(s: SimService): string[] {
    return s.received.map((m) => m.kind + ('uri' in m && m.uri ? ` ${m.uri}` : ''));
  }

  it('sends IDENT on connect, subscribes with options, passes SIGNALs on', async () => {
    const c = make();
    const signals: Array<[string, unknown]> = [];
    const acks: Array<[string, boolean]> = [];
    c.on('signal', (u, d) => signals.push([u, d]));
    c.on('subscription', (u, ok) => acks.push([u, ok]));
    c.subscribe('me/device0/ec/E', { debounce_time: 1000, send_data: true }, 'n1');
    c.connect();
    const s = await connected(c);
    assert.deepEqual(s.ident, IDENT);
    await until(() => acks.length === 1, 'CONNECT ack');
    assert.deepEqual(acks, [['/me/device0/ec/E', true]]);
    assert.deepEqual(s.received[1], { kind: 'connect', uri: '/me/device0/ec/E', body: { debounce_time: 1000, send_data: true } });
    clock.advance(1000);
    await until(() => signals.length === 1, 'SIGNAL');
    assert.deepEqual(signals[0], ['/me/device0/ec/E', { status: 'OK', E: { value: '12.75' }, time: String((clock.now() / 1000).toFixed(3)) }]);
    assert.deepEqual(c.state, { state: 'connected', subscriptions: 1 });
  });

  it('reports a refused CONNECT for that URI only', async () => {
    const c = make();
    const acks: Array<[string, boolean]> = [];
    c.on('subscription', (u, ok) => acks.push([u, ok]));
    c.subscribe('/me/device0/ec/E', undefined, 'a');
    c.subscribe('/me/device0/ec/T', undefined, 'b');
    c.connect();
    await until(() => acks.length === 2, 'two acks');
    assert.deepEqual(new Map(acks), new Map([['/me/device0/ec/E', true], ['/me/device0/ec/T', false]]));
    assert.deepEqual(c.subscriptions, new Map([['/me/device0/ec/E', 'ok'], ['/me/device0/ec/T', 'error']]));
  });

  it('answers requests in arrival order even when the flow answers out of order', async () => {
    const { c, reqs } = await live();
    const order: number[] = [];
    const p1 = sim.request(IDENT.name, { q: 1 }).then((r) => (order.push(1), r));
    const p2 = sim.request(IDENT.name, { q: 2 }).then((r) => (order.push(2), r));
    await until(() => reqs.length === 2, 'two requests');
    assert.equal(c.answer(reqs[1], { kind: 'hreply', status: 201, mime: 'text/plain', body: 'second' }), 'accepted');
    assert.deepEqual([c.stats.replies, c.pendingRequests], [0, 2], 'the second answer waits for the first: nothing written');
    assert.deepEqual(order, []);
    assert.equal(c.answer(reqs[0], { kind: 'reply', body: { n: 1 } }), 'accepted');
    const [r1, r2] = await Promise.all([p1, p2]);
    assert.deepEqual(order, [1, 2]);
    assert.deepEqual(r1, { status: 200, mime: 'application/json', body: { n: 1 } });
    assert.deepEqual(r2, { status: 201, mime: 'text/plain', body: 'second' });
    assert.equal(c.answer(reqs[0], { kind: 'reply', body: 'again' }), 'late');
  });

  it('a reply for a request of a replaced client is refused (stale), never matched to the new client\'s request', async () => {
    // A "modified nodes" deploy replaces the client; a reply held in the flow (a delay node)
    // still carries the old request's reference.
    const { c: old, reqs: oldReqs } = await live();
    const p0 = sim.request(IDENT.name, { q: 'old' });
    await until(() => oldReqs.length === 1, 'request on the old client');
    void p0; // the old connection's HTTP client is answered by the IoT's own timeout
    await old.close();
    await until(() => sim.service(IDENT.name) === undefined, 'old service gone');
    const { c, reqs } = await live();
    const p1 = sim.request(IDENT.name, { q: 'new' });
    await until(() => reqs.length === 1, 'request on the new client');
    assert.notEqual(reqs[0].epoch, oldReqs[0].epoch, 'a new client never reuses an epoch');
    assert.equal(c.answer(oldReqs[0], { kind: 'reply', body: 'for the old request' }), 'stale');
    assert.equal(c.answer(reqs[0], { kind: 'reply', body: 'for the new request' }), 'accepted');
    assert.deepEqual(await p1, { status: 200, mime: 'text/plain', body: 'for the new request' });
  });

  it('a throw while a message is handled (here: in a request listener) is a warning for that message; the link reads on', async () => {
    const c = make();
    const reqs: IsotelRequest[] = [];
    c.on('request', (r) => {
      if (r.body === 'boom') throw new Error('a flow bug');
      reqs.push(r);
    });
    c.connect();
    const s = await connected(c);
    s.write('boom\n\n{"q":2}\n\n');
    await until(() => reqs.length === 1, 'the next request');
    assert.deepEqual(warnings, ['a request message could not be handled: a flow bug']);
    assert.equal(c.state.state, 'connected');
  });

  it('signals are dispatched per owner: each gets the SIGNALs and acknowledgements of its own URIs; one that throws does not starve the others', async () => {
    const c = make();
    const got: string[] = [];
    const owner = (id: string, fail = false): SubscriptionOwner => ({
      id,
      onSignal: (uri) => {
        if (fail) throw new Error(`${id} broke`);
        got.push(`${id} signal ${uri}`);
      },
      onSubscription: (uri, ok) => got.push(`${id} ack ${uri} ${ok}`),
    });
    c.subscribe('/me/device0/ec/E', undefined, owner('a', true));
    c.subscribe('/me/device0/ec/E', undefined, owner('b'));
    c.subscribe('/me/device0/ec/T', undefined, owner('c'));
    c.connect();
    await connected(c);
    await until(() => got.length === 3, 'three acknowledgements');
    assert.deepEqual(got.sort(), ['a ack /me/device0/ec/E true', 'b ack /me/device0/ec/E true', 'c ack /me/device0/ec/T false']);
    got.length = 0;
    sim.setValue('/me/device0/ec/E', 3);
    await until(() => got.length === 1, 'the SIGNAL at b');
    assert.deepEqual(got, ['b signal /me/device0/ec/E']);
    assert.deepEqual(warnings, ['a subscriber failed to handle a message: a broke']);
    c.unsubscribeAll('b');
    c.unsubscribeAll('a');
    assert.deepEqual([...c.subscriptions.keys()], ['/me/device0/ec/T']);
  });

  it('a request beyond maxPendingRequests is answered HREPLY 503 at once (in its turn) instead of reaching the flow', async () => {
    const { c, reqs } = await live({ maxPendingRequests: 2 });
    const p = [1, 2, 3].map((q) => sim.request(IDENT.name, { q }));
    await until(() => c.pendingRequests === 3, 'three requests in');
    assert.equal(reqs.length, 2, 'the third did not reach the flow');
    assert.match(warnings.join('\n'), /2 requests are waiting for the flow/);
    for (const r of reqs) c.answer(r, { kind: 'reply', body: r.id });
    const answers = await Promise.all(p);
    assert.deepEqual(answers[2], { status: 503, mime: 'text/plain', body: 'busy: too many requests waiting for an answer' });
    // Room again: the next one reaches the flow.
    const p4 = sim.request(IDENT.name, { q: 4 });
    await until(() => reqs.length === 3, 'the fourth in the flow');
    c.answer(reqs[2], { kind: 'reply', body: 'four' });
    assert.equal((await p4).body, 'four');
  });

  it('answers HREPLY 504 when nothing replies within requestTimeout; a later answer is refused as late', async () => {
    const c = make({ requestTimeoutMs: 10000 });
    const reqs: IsotelRequest[] = [];
    const timeouts: IsotelRequest[] = [];
    c.on('request', (r) => reqs.push(r));
    c.on('timeout', (r) => timeouts.push(r));
    c.connect();
    await connected(c);
    const p = sim.request(IDENT.name, { action: 'slow' });
    await until(() => reqs.length === 1, 'request');
    assert.equal(reqs[0].action, 'slow');
    clock.advance(9999); // (FakeClock timers fire inside advance: nothing to wait for)
    assert.equal(timeouts.length, 0);
    clock.advance(1);
    assert.deepEqual(await p, { status: 504, mime: 'text/plain', body: 'timeout' });
    assert.equal(timeouts.length, 1);
    assert.equal(c.answer(reqs[0], { kind: 'reply', body: 1 }), 'late');
    assert.equal(c.stats.timeouts, 1);
  });

  it('answers ident and status itself, and 503 without a handler', async () => {
    const c = make();
    c.connect();
    const s = await connected(c);
    assert.deepEqual(await sim.request(IDENT.name, { action: 'ident' }), { status: 200, mime: 'application/json', body: IDENT });
    const st = await sim.request(IDENT.name, { action: 'status' });
    assert.equal(st.status, 200);
    assert.equal((st.body as { name: string }).name, IDENT.name);
    assert.equal((await sim.request(IDENT.name, { action: 'other' })).status, 503);
    // A bare IDENT asks for ours; one with a body is ignored (no ping-pong).
    const answers: IsotelMessage[] = [];
    sim.on('message', (_c, m) => answers.push(m));
    s.write('IDENT {"name":"echo"}\n\nIDENT\n\n');
    await until(() => answers.length === 1, 'an IDENT');
    assert.deepEqual(answers, [{ kind: 'ident', body: IDENT }]);
    assert.equal(warnings.length, 1);
  });

  it('only the protocol keywords are dispatched: plain text, upper-case words and malformed JSON reach the flow as requests', async () => {
    const { c, reqs, s } = await live();
    const answers: IsotelMessage[] = [];
    sim.on('message', (_c, m) => answers.push(m));
    s.write('ON\n\nRESET now\n\n{bad\n\nSTOPPED\n\nstop\n\nSIGNALS /x 1\n\n42\n\n');
    await until(() => reqs.length === 7, 'seven requests');
    assert.deepEqual(
      reqs.map((r) => [r.id, r.body, r.action]),
      [
        [1, 'ON', undefined],
        [2, 'RESET now', undefined],
        [3, '{bad', undefined],
        [4, 'STOPPED', undefined],
        [5, 'stop', undefined],
        [6, 'SIGNALS /x 1', undefined],
        [7, 42, undefined],
      ],
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^a request with malformed JSON: passed on to the flow as text \(.+\)$/);
    assert.equal(c.state.state, 'connected', 'lower-case stop and STOPPED are no STOP');
    // Each is the flow's to answer, in order; nothing was answered for it.
    assert.deepEqual([c.stats.replies, c.pendingRequests], [0, 7]);
    for (const r of [...reqs].reverse()) assert.equal(c.answer(r, { kind: 'reply', body: `ok ${r.id}` }), 'accepted');
    await until(() => answers.length === 7, 'seven replies');
    assert.deepEqual(
      answers.map((m) => (m.kind === 'reply' ? m.body : m.kind)),
      [1, 2, 3, 4, 5, 6, 7].map((i) => `ok ${i}`),
    );
  });

  it('reconnects after the server drops the socket: back-off, re-IDENT, re-subscribe', async () => {
    const c = make();
    c.subscribe('/me/device0/ec/E', { send_data: false }, 'n1');
    c.connect();
    await connected(c);
    sim.dropAll();
    await until(() => c.state.state === 'reconnecting', 'reconnecting');
    assert.deepEqual(c.state, { state: 'reconnecting', inMs: 1000, reason: 'connection closed by the IoT' });
    clock.advance(999);
    // Only the retry timer opens a socket, and it has not fired: still waiting, nothing dialled.
    assert.equal(c.state.state, 'reconnecting');
    assert.equal(sim.connections.size, 0);
    clock.advance(1);
    const s2 = await connected(c);
    await until(() => s2.received.length >= 2, 'IDENT + CONNECT again');
    assert.deepEqual(kinds(s2).slice(0, 2), ['ident', 'connect /me/device0/ec/E']);
    // The back-off doubles while the link keeps failing, and is capped at 30 s; a link
    // that stayed up a while starts again at 1 s.
    clock.advance(5000);
    await sim.stop();
    const delays: number[] = [];
    c.on('state', (st) => st.state === 'reconnecting' && delays.push(st.inMs));
    for (let i = 0; i < 7; i++) {
      await until(() => c.state.state === 'reconnecting' && delays.length === i + 1, `failure ${i + 1}`);
      clock.advance(delays[i]);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    sim = new IsotelSim({ clock, httpPort: false });
    await sim.start();
  });

  it('queues NOTIFYs while down (bounded, oldest dropped) and delivers each exactly once after reconnect', async () => {
    const c = make({ queueLimit: 3 });
    c.connect();
    const s1 = await connected(c);
    assert.equal(c.notify({ message: 'up' }), 'sent');
    await until(() => sim.activity.length === 1, 'first notify');
    assert.deepEqual(sim.activity[0], { time: new Date(clock.now()).toISOString(), service: IDENT.name, module: IDENT.name, severity: 'API', message: 'up', receiver: null });
    s1.socket.destroy();
    await until(() => c.state.state === 'reconnecting', 'reconnecting');
    for (let i = 1; i <= 5; i++) assert.equal(c.notify({ message: `down ${i}`, severity: 'SYSLOG', receiver: 'app1' }), 'queued');
    assert.equal(c.stats.dropped, 2);
    assert.equal(c.stats.queued, 3);
    clock.advance(1000);
    await connected(c);
    await until(() => sim.activity.length === 4, 'queued notifies');
    assert.equal(c.stats.queued, 0, 'nothing left to send: none can arrive twice');
    assert.deepEqual(
      sim.activity.map((a) => a.message),
      ['up', 'down 3', 'down 4', 'down 5'],
    );
    assert.equal(sim.activity[1].receiver, 'app1');
    assert.equal(c.stats.queued, 0);
  });

  it('STOP: says DISCONNECT, closes, stays down until connect()', async () => {
    const c = make();
    c.connect();
    const s = await connected(c);
    assert.ok(sim.sendStop(IDENT.name));
    await until(() => c.state.state === 'stopped', 'stopped');
    await until(() => s.unbound && sim.connections.size === 0, 'DISCONNECT and close at the sim');
    clock.advance(120000);
    // A reconnect could only come from a retry timer, which would have fired inside advance.
    assert.equal(c.state.state, 'stopped');
    assert.equal(sim.connections.size, 0);
    c.connect();
    await connected(c);
  });

  it('STOP answers the requests still waiting HREPLY 503 (in order) before DISCONNECT', async () => {
    const { c, reqs, s } = await live();
    const p1 = sim.request(IDENT.name, { q: 1 });
    const p2 = sim.request(IDENT.name, { q: 2 });
    await until(() => reqs.length === 2, 'two requests');
    assert.equal(c.answer(reqs[1], { kind: 'reply', body: 'two' }), 'accepted');
    assert.ok(sim.sendStop(IDENT.name));
    assert.deepEqual(await p1, { status: 503, mime: 'text/plain', body: 'service stopped' });
    assert.deepEqual(await p2, { status: 200, mime: 'text/plain', body: 'two' });
    await until(() => s.unbound && sim.connections.size === 0, 'DISCONNECT and close');
    assert.deepEqual(kinds(s), ['ident', 'hreply', 'reply', 'disconnect']);
    assert.equal(c.state.state, 'stopped');
    assert.equal(c.answer(reqs[0], { kind: 'reply', body: 'late' }), 'stale');
  });

  it('a {"action":"stop"} request: REPLY {"status":"OK","action":"stop"} after the earlier requests, DISCONNECT, close, no reconnect', async () => {
    const c = make();
    const reqs: IsotelRequest[] = [];
    c.on('request', (r) => reqs.push(r));
    c.subscribe('/me/device0/ec/E', undefined, 'n1');
    c.connect();
    const s = await connected(c);
    const earlier = sim.request(IDENT.name, { action: 'read' });
    await until(() => reqs.length === 1, 'the earlier request');
    const stop = sim.request(IDENT.name, { action: 'stop' });
    assert.deepEqual(await earlier, { status: 503, mime: 'text/plain', body: 'service stopped' });
    assert.deepEqual(await stop, { status: 200, mime: 'application/json', body: { status: 'OK', action: 'stop' } });
    await until(() => s.unbound && sim.connections.size === 0, 'DISCONNECT and close at the sim');
    assert.deepEqual(kinds(s), ['ident', 'connect /me/device0/ec/E', 'hreply', 'reply', 'disconnect']);
    assert.equal(reqs.length, 1, 'the stop request does not go to the flow');
    assert.equal(c.state.state, 'stopped');
    assert.ok(states.some((st) => st.state === 'stopped'));
    clock.advance(120000);
    assert.equal(c.state.state, 'stopped', 'no reconnect (a retry timer would have fired inside advance)');
    assert.equal(sim.connections.size, 0);
    c.connect();
    const s2 = await connected(c);
    await until(() => s2.subs.has('/me/device0/ec/E'), 're-subscribed after connect()');
  });

  it('disconnect(): DISCONNECT per parameter and for the service, then stays down', async () => {
    const c = make();
    c.subscribe('/me/device0/ec/E', undefined, 'x');
    c.connect();
    const s = await connected(c);
    c.disconnect();
    await until(() => sim.connections.size === 0, 'closed');
    assert.deepEqual(kinds(s).slice(-2), ['disconnect /me/device0/ec/E', 'disconnect']);
    assert.equal(c.state.state, 'disconnected');
  });

  it('unsubscribe sends DISCONNECT <uri> only when the last owner leaves', async () => {
    const c = make();
    c.subscribe('/me/device0/ec/E', undefined, 'a');
    c.subscribe('/me/device0/ec/E', undefined, 'b');
    c.connect();
    const s = await connected(c);
    c.unsubscribe('/me/device0/ec/E', 'a');
    c.unsubscribe('/me/device0/ec/E', 'b');
    await until(() => kinds(s).includes('disconnect /me/device0/ec/E'), 'DISCONNECT');
    assert.equal(kinds(s).filter((k) => k.startsWith('disconnect')).length, 1);
    assert.deepEqual(c.state, { state: 'connected', subscriptions: 0 });
  });

  it('several subscribers of one URI: one CONNECT with merged options (smallest debounce, data if any wants it), re-sent on change and restored when one leaves', async () => {
    const c = make();
    c.subscribe('/me/device0/ec/E', { debounce_time: 5000, send_data: false }, 'a');
    c.connect();
    const s = await connected(c);
    const connects = (): unknown[] => s.received.filter((m) => m.kind === 'connect').map((m) => (m as { body: unknown }).body);
    const simSub = (): [number, boolean] | undefined => {
      const x = s.subs.get('/me/device0/ec/E');
      return x && [x.debounceMs, x.sendData];
    };
    await until(() => connects().length === 1, 'first CONNECT');
    assert.deepEqual(connects(), [{ debounce_time: 5000, send_data: false }]);
    // b wants updates at most every second, with data: both get at least what they asked for.
    c.subscribe('me/device0/ec/E', { debounce_time: 1000, send_data: true }, 'b');
    await until(() => connects().length === 2, 'merged CONNECT');
    assert.deepEqual(connects()[1], { debounce_time: 1000, send_data: true });
    assert.match(warnings.join('\n'), /CONNECT \/me\/device0\/ec\/E: its subscribers ask for different options.*sent \{"debounce_time":1000,"send_data":true\}/);
    await until(() => simSub()?.[0] === 1000, 'the sim holds the merged options');
    assert.deepEqual(simSub(), [1000, true]);
    // c wants every update: no debounce at all.
    c.subscribe('/me/device0/ec/E', undefined, 'c');
    await until(() => connects().length === 3, 'CONNECT without debounce');
    assert.deepEqual(connects()[2], { debounce_time: 0, send_data: true });
    // The same options again change nothing.
    c.subscribe('/me/device0/ec/E', undefined, 'c');
    c.subscribe('/me/device0/ec/E', { debounce_time: 1000, send_data: true }, 'b');
    // Leaving: the rest's options are restored (b's, then a's alone).
    c.unsubscribe('/me/device0/ec/E', 'c');
    await until(() => connects().length === 4, 'CONNECT for a and b');
    assert.deepEqual(connects()[3], { debounce_time: 1000, send_data: true });
    c.unsubscribe('/me/device0/ec/E', 'b');
    await until(() => connects().length === 5, "CONNECT with a's options");
    assert.deepEqual(connects()[4], { debounce_time: 5000, send_data: false });
    await until(() => simSub()?.[0] === 5000, "the sim holds a's options");
    assert.deepEqual(simSub(), [5000, false]);
    // A reconnect sends the merged options once.
    c.subscribe('/me/device0/ec/E', { send_data: false }, 'd');
    await until(() => connects().length === 6, 'CONNECT for a and d');
    assert.deepEqual(connects()[5], { debounce_time: 0, send_data: false });
    sim.dropAll();
    await until(() => c.state.state === 'reconnecting', 'reconnecting');
    clock.advance(1000);
    const s2 = await connected(c);
    await until(() => s2.subs.has('/me/device0/ec/E'), 're-subscribed');
    assert.deepEqual(
      s2.received.filter((m) => m.kind === 'connect').map((m) => (m as { body: unknown }).body),
      [{ debounce_time: 0, send_data: false }],
    );
    c.unsubscribe('/me/device0/ec/E', 'a');
    c.unsubscribe('/me/device0/ec/E', 'd');
    await until(() => !s2.subs.has('/me/device0/ec/E'), 'DISCONNECT after the last');
    assert.equal(s2.received.filter((m) => m.kind === 'connect').length, 1, "d's own options ({send_data:false}) have the same effect: no CONNECT");
    assert.equal(warnings.filter((w) => /different options/.test(w)).length, 3);
  });

  it('a message growing past the cap without a terminator is dropped, warned, and the link re-established', async () => {
    const c = make({ maxMessageBytes: 4096 });
    c.connect();
    const s = await connected(c);
    s.write('x'.repeat(5000));
    await until(() => c.state.state === 'reconnecting', 'reset');
    assert.match(warnings.join('\n'), /grew past 4096 bytes/);
    clock.advance(1000);
    await until(() => c.state.state === 'connected', 'reconnected');
    await until(() => sim.service(IDENT.name) !== undefined && sim.service(IDENT.name) !== s, 'IDENT on the new connection');
    // Nothing of the dropped message carries over: the new connection's first request is whole.
    assert.deepEqual(await sim.request(IDENT.name, { action: 'status' }).then((r) => r.status), 200);
  });

  it('half-open check: a silent link is reset when idleTimeout is set', async () => {
    const c = make({ idleTimeoutMs: 60000, checkIntervalMs: 5000 });
    c.connect();
    await connected(c);
    clock.advance(55000);
    assert.equal(c.state.state, 'connected');
    assert.ok(!warnings.some((w) => /nothing received/.test(w)), 'the idle check did not fire');
    clock.advance(5000);
    await until(() => c.state.state === 'reconnecting', 'reset');
    assert.match(warnings.join('\n'), /nothing received for 60 s/);
  });

  it('half-open check: bytes that stay unsent past stallTimeout reset the link', async () => {
    // A peer that accepts and never reads: the kernel buffers fill, then nothing moves.
    const peers: net.Socket[] = [];
    const srv = net.createServer({ pauseOnConnect: true }, (s) => peers.push(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const c = make({ port: (srv.address() as net.AddressInfo).port, checkIntervalMs: 5000, stallTimeoutMs: 30000, queueLimit: 100000 });
    c.connect();
    await until(() => c.state.state === 'connected', 'connected');
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 1000 && c.stats.queued === 0; i++) {
      c.notify({ message: big });
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(c.stats.queued > 0, 'the socket backs up');
    clock.advance(5000); // first check: progress seen (the writes), nothing moves from here on
    clock.advance(25000);
    assert.equal(c.state.state, 'connected', 'not yet');
    assert.ok(!warnings.some((w) => /half-open/.test(w)), 'not yet');
    clock.advance(5000);
    await until(() => c.state.state === 'reconnecting', 'reset');
    assert.match(warnings.join('\n'), /half-open link/);
    assert.ok(c.stats.queued > 0, 'queued NOTIFYs survive the reset');
    await c.close();
    for (const p of peers) p.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  });

  describe('outbound queue overflow with replies waiting (a peer that does not read)', () => {
    let srv: net.Server;
    let peers: net.Socket[];

    beforeEach(async () => {
      peers = [];
      srv = net.createServer({ pauseOnConnect: true }, (p) => peers.push(p));
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    });

    afterEach(async () => {
      await client?.close();
      for (const p of peers) p.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    });

    /** Connect, then fill the socket with big NOTIFYs until one has to wait in the queue. */
    async function congested(queueLimit: number): Promise<{ c: IsotelClient; reqs: IsotelRequest[] }> {
      const c = make({ port: (srv.address() as net.AddressInfo).port, queueLimit });
      const reqs: IsotelRequest[] = [];
      c.on('request', (r) => reqs.push(r));
      c.connect();
      await until(() => c.state.state === 'connected' && peers.length === 1, 'connected');
      const big = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 1000 && c.stats.queued === 0; i++) {
        c.notify({ message: big });
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(c.stats.queued, 1, 'one NOTIFY waits');
      return { c, reqs };
    }

    it('drops the oldest NOTIFYs, never a reply: the replies go out complete and in order once the peer reads', async () => {
      const { c, reqs } = await congested(3);
      assert.equal(c.notify({ message: 'second waiting' }), 'queued');
      peers[0].write('{"q":1}\n\n{"q":2}\n\n{"q":3}\n\n');
      await until(() => reqs.length === 3, 'three requests');
      for (const r of reqs) assert.equal(c.answer(r, { kind: 'reply', body: `r${r.id}` }), 'accepted');
      assert.equal(c.stats.dropped, 2, 'both waiting NOTIFYs dropped');
      assert.equal(c.stats.queued, 3, 'the three replies wait');
      assert.equal(warnings.filter((w) => /oldest NOTIFY dropped/.test(w)).length, 2);
      assert.equal(c.state.state, 'connected');
      // A NOTIFY arriving now is the only droppable item: it is the one that goes.
      assert.equal(c.notify({ message: 'no room' }), 'dropped');
      assert.equal(c.stats.dropped, 3);
      let got = '';
      peers[0].on('data', (d: Buffer) => (got += d.toString('latin1')));
      peers[0].resume();
      await until(() => got.includes('REPLY r3\n\n'), 'the replies');
      assert.deepEqual(got.match(/REPLY r\d/g), ['REPLY r1', 'REPLY r2', 'REPLY r3']);
      assert.ok(!got.includes('second waiting') && !got.includes('no room'), 'the dropped NOTIFYs never went out');
      assert.equal(c.stats.queued, 0);
    });

    it('resets the link when only replies are left and the cap is hit', async () => {
      const { c, reqs } = await congested(2);
      peers[0].write('{"q":1}\n\n{"q":2}\n\n{"q":3}\n\n');
      await until(() => reqs.length === 3, 'three requests');
      assert.equal(c.answer(reqs[0], { kind: 'reply', body: 'r1' }), 'accepted');
      assert.equal(c.answer(reqs[1], { kind: 'reply', body: 'r2' }), 'accepted');
      assert.equal(c.stats.dropped, 1, 'the NOTIFY made room');
      assert.equal(c.state.state, 'connected');
      assert.equal(c.answer(reqs[2], { kind: 'reply', body: 'r3' }), 'accepted');
      await until(() => c.state.state === 'reconnecting', 'reset');
      assert.deepEqual(c.state, { state: 'reconnecting', inMs: 1000, reason: 'outbound queue full of replies' });
      assert.match(warnings.join('\n'), /outbound queue full \(2\) of replies the IoT does not take \(3 waiting\): link reset/);
      assert.equal(c.stats.queued, 0);
      assert.equal(c.stats.dropped, 1, 'no reply counted as a dropped NOTIFY');
      // The new connection starts clean: IDENT, no leftover reply from the old one.
      clock.advance(1000);
      await until(() => c.state.state === 'connected' && peers.length === 2, 'reconnected');
      // What a new connection writes (IDENT, CONNECTs, the queue) goes out at once: with the queue empty, IDENT is all.
      assert.equal(c.stats.queued, 0);
      let got = '';
      peers[1].on('data', (d: Buffer) => (got += d.toString('latin1')));
      peers[1].resume();
      await until(() => got.includes('\n\n'), 'IDENT');
      assert.equal(got, `IDENT ${JSON.stringify(IDENT)}\n\n`);
    });
  });

  it('keeps trying while the IoT is not there, and close() frees every timer', async () => {
    const port = sim.port;
    await sim.stop();
    const c = make({ connectTimeoutMs: 5000 });
    c.connect();
    await until(() => c.state.state === 'reconnecting', 'reconnecting');
    assert.equal((c.state as { reason: string }).reason.length > 0, true);
    await c.close();
    assert.equal(clock.pending, 0, 'no timers left');
    assert.equal(c.state.state, 'closed');
    // a fresh sim for afterEach
    sim = new IsotelSim({ clock, httpPort: false, port });
    await sim.start().catch(async () => {
      sim = new IsotelSim({ clock, httpPort: false });
      await sim.start();
    });
  });

  it('never lets a socket error escape', async () => {
    const srv = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const c = make({ port: (srv.address() as net.AddressInfo).port });
    c.connect();
    await until(() => c.state.state === 'reconnecting', 'reconnecting');
    await c.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });
});
