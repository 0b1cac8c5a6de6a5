/**
 * halo-in in Node-RED (node-red-node-test-helper) over real loopback sockets: TCP, UDP and
 * HTTP transports fed by the HALO simulator, heartbeats and the watchdog, a 1000-message
 * burst over 10 connections, and every bad-input case of the issue.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { FakeClock } from '../../../lib/common/clock';
import { RECOMMENDED_TEMPLATES } from '../../../lib/halo/decode';
import { HaloSim, PARTNER_TEMPLATES, parseTarget } from '../../../lib/halo/sim';
import { boundPort, calls, helper, loadKeepingRED, nodeModule, redExpress, serveOnLoopback, settle, type SpyCall, until } from '../../helpers/nodered';
import { withCatalog } from './catalog';

type Flow = Array<Record<string, unknown>>;
type Msg = NodeMessage & { raw?: string; payload: Record<string, unknown> };

const haloInModule = nodeModule('halo-in') as (RED: NodeAPI) => void;

const haloIn = withCatalog(haloInModule, 'halo-in');

function sendTcp(port: number, chunks: Array<string | Buffer>, keepOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, async () => {
      for (const c of chunks) {
        s.write(c);
        await new Promise((r) => setImmediate(r));
      }
      if (!keepOpen) s.end();
      resolve(s);
    });
    s.on('error', reject);
  });
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((r) => {
    if (s.destroyed || s.readyState === 'closed') return r();
    s.on('close', () => r());
  });
}

describe('halo-in (loopback sockets)', function () {
  const sims: HaloSim[] = [];
  const servers: http.Server[] = [];

  /**
   * Load `flow` and serve the RED.httpNode it registered routes on (the test-helper does not
   * mount httpNode on its own server). Resolves with that server's port. With `root`, httpNode
   * is mounted under it by Express, as Node-RED does for a non-root httpNodeRoot.
   */
  async function loadServingHttpNode(flow: Flow, root?: string): Promise<number> {
    const captured = await loadKeepingRED(haloIn, flow);
    let listener: unknown = captured.httpNode;
    if (root) {
      // Mounted under `root` by the Express of the Node-RED under test, as Node-RED does.
      const outer = (redExpress() as unknown as () => { use(p: string, h: unknown): void } & http.RequestListener)();
      outer.use(root, captured.httpNode);
      listener = outer;
    }
    const { server, port } = await serveOnLoopback(listener);
    servers.push(server);
    return port;
  }

  afterEach(async () => {
    await helper.unload();
    for (const s of sims.splice(0)) await s.close();
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  /** Load a halo-in (`port: 0`: the OS picks one) and wait until it listens or gave up; `port` is the bound one (from the status). */
  async function load(cfg: Record<string, unknown>): Promise<{ node: Node; events: Msg[]; health: Msg[]; port: number }> {
    const flow: Flow = [
      { id: 'in1', type: 'halo-in', name: '', transport: 'tcp', host: '127.0.0.1', framing: 'newline', format: 'auto', heartbeatInterval: 60, missedHeartbeats: 3, wires: [['ev'], ['hb']], ...cfg },
      { id: 'ev', type: 'helper' },
      { id: 'hb', type: 'helper' },
    ];
    await helper.load(haloIn as never, flow as never);
    const events: Msg[] = [];
    const health: Msg[] = [];
    helper.getNode('ev').on('input', (m: object) => events.push(m as Msg));
    helper.getNode('hb').on('input', (m: object) => health.push(m as Msg));
    const node = helper.getNode('in1');
    // Wait until the socket is bound (green status) or the node gave up (red status).
    const history = (node as unknown as { status: { args: Array<[{ fill?: string }]> } }).status.args;
    await until(() => history.some(([st]) => st?.fill === 'green' || st?.fill === 'red'), 'listening or failed');
    return { node, events, health, port: boundPort(node) ?? 0 };
  }

  async function sim(target: string, extra: Partial<ConstructorParameters<typeof HaloSim>[0]> = {}): Promise<HaloSim> {
    const s = new HaloSim({ device: { name: 'Hallway-2F', mac: '0011223344AA', ip: '10.1.2.3' }, targets: [parseTarget(target)], ...extra });
    await s.start();
    sims.push(s);
    return s;
  }

  it('tcp: set, reset and heartbeat from the simulator with the recommended strings', async () => {
    const { node, events, health, port } = await load({ port: 0 });
    assert.ok(node);
    const s = await sim(`tcp://127.0.0.1:${port}`);
    const first = await s.trigger('set', 'Vape', { value: 7.5 }); // the node listens already (green status)
    assert.equal(first?.[0].ok, true);
    await s.trigger('reset', 'Vape');
    await s.command('test', 'Help');
    await s.push('heartbeat');
    await until(() => events.length === 3 && health.length === 2, 'messages');
    const set = events[0];
    assert.equal(set.topic, 'Hallway-2F/Vape');
    assert.equal(set.payload.kind, 'set');
    assert.equal(set.payload.active, true);
    assert.equal(set.payload.value, 7.5);
    assert.equal(set.payload.threshold, 5);
    assert.equal(set.payload.source, 'pmsensor/raw/2');
    assert.equal(set.payload.mac, '0011223344AA');
    assert.equal(set.payload.ip, '10.1.2.3');
    assert.equal(set.payload.simulated, false);
    assert.match(String(set.payload.remote), /^127\.0\.0\.1:\d+$/);
    assert.equal(typeof set.payload.receivedAt, 'number');
    assert.ok(typeof set.payload.deviceTime === 'string' && set.payload.deviceTime.length > 0);
    assert.equal((set.payload.tokens as Record<string, string>).EID, 'Vape');
    assert.ok(set.raw?.startsWith('{"type":"set"'));
    assert.equal(events[1].payload.kind, 'reset');
    assert.equal(events[1].payload.active, false);
    assert.equal(events[2].payload.simulated, true);
    // health: the first heartbeat brings the device online, then the heartbeat itself
    const hb = health.find((m) => m.topic === 'Hallway-2F/heartbeat');
    assert.ok(hb);
    assert.deepEqual(hb.payload.active, ['Help']);
    assert.equal((hb.payload.events as Record<string, number>).Help, 62.5);
    assert.equal((hb.payload.sensors as Record<string, number>).RH, s.state.sensors.RH);
    assert.equal(hb.payload.online, true);
    const online = health.find((m) => m.topic === 'Hallway-2F/online');
    assert.deepEqual(online?.payload.online, true);
  });

  it('udp: one datagram = one message', async () => {
    const { events, health, port } = await load({ transport: 'udp', port: 0 });
    const s = await sim(`udp://127.0.0.1:${port}`);
    await until(() => true, 'bound');
    await s.trigger('set', 'CO2cal');
    await s.push('heartbeat');
    await until(() => events.length === 1 && health.length === 2, 'udp messages');
    assert.equal(events[0].topic, 'Hallway-2F/CO2cal');
    assert.equal(events[0].payload.kind, 'set');
  });

  it('http: a route on Node-RED’s server (GET/POST/PUT), answered 200 at once', async () => {
    const flow: Flow = [
      { id: 'in1', type: 'halo-in', transport: 'http', path: '/halo/events', format: 'auto', heartbeatInterval: 60, missedHeartbeats: 3, wires: [['ev'], ['hb']] },
      { id: 'ev', type: 'helper' },
      { id: 'hb', type: 'helper' },
    ];
    const port = await loadServingHttpNode(flow);
    const events: Msg[] = [];
    helper.getNode('ev').on('input', (m: object) => events.push(m as Msg));
    const s = await sim(`http://127.0.0.1:${port}/halo/events`);
    const r = await s.trigger('set', 'Vape');
    assert.equal(r?.[0].status, 200);
    // A HALO HTTP string: PUT with [JSONBODY]
    s.state.device.name = 'Gym';
    const put = new HaloSim({
      device: { name: 'Gym' },
      targets: [parseTarget(`http://127.0.0.1:${port}/`)],
      templates: { reset: `PUT:http://127.0.0.1:${port}/halo/events[HEADER]X-Test:%NAME%[JSONBODY]{"device":"%NAME%","event":"%EID%","alarm":"no"}` },
    });
    sims.push(put);
    const r2 = await put.trigger('reset', 'Help');
    assert.equal(r2?.[0].status, 200);
    // GET with the data in the query string
    const get = await fetch(`http://127.0.0.1:${port}/halo/events?device=Lab&event=Tamper&alarm=yes`);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'OK\n');
    await until(() => events.length === 3, 'http messages');
    assert.equal(events[0].topic, 'Hallway-2F/Vape');
    assert.equal(events[1].topic, 'Gym/Help');
    assert.equal(events[1].payload.kind, 'reset');
    assert.equal(events[2].payload.kind, 'unknown', 'a bare query matches no template and is not JSON');
    const del = await fetch(`http://127.0.0.1:${port}/halo/events`, { method: 'DELETE' });
    assert.equal(del.status, 404);
    await helper.unload();
    const after = await fetch(`http://127.0.0.1:${port}/halo/events`, { method: 'POST', body: '{}' });
    assert.equal(after.status, 404, 'the route is removed on close');
  });

  it('http: refused senders get 403, oversize bodies 413, and httpNodeMiddleware is honoured', async () => {
    let middlewareCalls = 0;
    helper.settings({ httpNodeMiddleware: (_req: unknown, _res: unknown, next: () => void) => { middlewareCalls++; next(); } });
    const flow: Flow = [
      { id: 'in1', type: 'halo-in', transport: 'http', path: 'halo2', allow: '10.0.0.0/8', maxMessageBytes: 100, wires: [['ev'], ['hb']] },
      { id: 'in2', type: 'halo-in', transport: 'http', path: '/halo3', maxMessageBytes: 100, wires: [['ev'], ['hb']] },
      { id: 'ev', type: 'helper' },
      { id: 'hb', type: 'helper' },
    ];
    try {
      const port = await loadServingHttpNode(flow);
      const warns = calls(helper.getNode('in2'), 'warn');
      const refused = await fetch(`http://127.0.0.1:${port}/halo2`, { method: 'POST', body: '{"device":"A","event":"E","alarm":"yes"}' });
      assert.equal(refused.status, 403);
      const big = await fetch(`http://127.0.0.1:${port}/halo3`, { method: 'POST', body: 'z'.repeat(5000) });
      assert.equal(big.status, 413);
      await until(() => warns.some((c) => /over 100 bytes/.test(String(c.args[0]))), 'oversize warning');
      assert.ok(middlewareCalls >= 2);
    } finally {
      helper.settings({});
    }
  });

  it('http: a body already read by httpNodeMiddleware (req.body = {}) is answered from the URL, not left hanging', async () => {
    // Like a body parser: reads the request to its end, leaves an empty object.
    helper.settings({
      httpNodeMiddleware: (req: http.IncomingMessage & { body?: unknown }, _res: unknown, next: () => void) => {
        req.resume();
        req.on('end', () => {
          req.body = {};
          next();
        });
      },
    });
    const flow: Flow = [
      { id: 'in1', type: 'halo-in', transport: 'http', path: '/halo4', wires: [['ev'], ['hb']] },
      { id: 'ev', type: 'helper' },
      { id: 'hb', type: 'helper' },
    ];
    try {
      const port = await loadServingHttpNode(flow);
      const events: Msg[] = [];
      helper.getNode('ev').on('input', (m: object) => events.push(m as Msg));
      const r = await fetch(`http://127.0.0.1:${port}/halo4?device=Lab&event=Tamper&alarm=yes`);
      assert.equal(r.status, 200);
      await until(() => events.length === 1, 'the message from the URL');
      assert.equal(events[0].payload.kind, 'unknown');
    } finally {
      helper.settings({});
    }
  });

  it('http under a non-root httpNodeRoot: GET strings carrying the full path (/api/…) match', async () => {
    helper.settings({ httpNodeRoot: '/api' } as never);
    const flow: Flow = [
      {
        id: 'in1',
        type: 'halo-in',
        transport: 'http',
        path: '/halo5',
        format: 'template',
        setTemplate: 'http://nodered:1880/api/halo5?dev=%NAME%&evt=%EID%&state=set',
        resetTemplate: 'http://nodered:1880/api/halo5?dev=%NAME%&evt=%EID%&state=reset',
        heartbeatTemplate: '',
        wires: [['ev'], ['hb']],
      },
      { id: 'ev', type: 'helper' },
      { id: 'hb', type: 'helper' },
    ];
    try {
      const port = await loadServingHttpNode(flow, '/api');
      const events: Msg[] = [];
      helper.getNode('ev').on('input', (m: object) => events.push(m as Msg));
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/halo5?dev=Hall&evt=Vape&state=set`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/halo5?dev=Hall&evt=Vape&state=reset`)).status, 200);
      await until(() => events.length === 2, 'two events');
      assert.deepEqual(
        events.map((m) => [m.topic, m.payload.kind]),
        [
          ['Hall/Vape', 'set'],
          ['Hall/Vape', 'reset'],
        ],
      );
      assert.equal(events[0].raw, '/api/halo5?dev=Hall&evt=Vape&state=set', 'raw is the path as the HALO sent it');
      assert.equal((await fetch(`http://127.0.0.1:${port}/halo5?dev=Hall&evt=Vape&state=set`)).status, 404, 'only under the root');
    } finally {
      helper.settings({});
    }
  });

  it('heartbeat watchdog: offline after missed intervals of silence, online again on the next heartbeat', async () => {
    const { health, port } = await load({ port: 0, heartbeatInterval: 0.1, missedHeartbeats: 2 });
    const hb = (name: string): string => `{"type":"heartbeat","name":"${name}","mac":"","ip":"","active":"","events":"","sensors":"C=20","date":"","time":""}\n`;
    await sendTcp(port, [hb('A')]);
    await until(() => health.some((m) => m.topic === 'A/online' && m.payload.online === false), 'offline');
    const online = health.filter((m) => m.topic === 'A/online').map((m) => m.payload.online);
    assert.deepEqual(online, [true, false]);
    const off = health.find((m) => m.topic === 'A/online' && m.payload.online === false);
    assert.equal(typeof off?.payload.lastSeen, 'number');
    await sendTcp(port, [hb('A')]);
    await until(() => health.filter((m) => m.topic === 'A/online').length === 3, 'back online');
    assert.equal(health.filter((m) => m.topic === 'A/online')[2].payload.online, true);
  });

  it('a burst of 1000 messages over 10 connections arrives exactly once each', async () => {
    const { events, port } = await load({ port: 0, format: 'json' });
    const conns = Array.from({ length: 10 }, (_, c) => {
      let text = '';
      for (let i = 0; i < 100; i++) text += JSON.stringify({ device: `D${c}`, event: `E${i}`, alarm: i % 2 ? 'no' : 'yes' }) + (i % 3 ? '\n' : '\r\n');
      // cut into uneven chunks so messages straddle chunk boundaries
      const chunks: string[] = [];
      for (let at = 0; at < text.length; ) {
        const n = 1 + ((at * 7919) % 97);
        chunks.push(text.slice(at, at + n));
        at += n;
      }
      return sendTcp(port, chunks);
    });
    await Promise.all(conns);
    await until(() => events.length >= 1000, '1000 messages');
    await settle(20); // bytes already read that would decode to a 1001st message are handled by now
    assert.equal(events.length, 1000);
    const seen = new Set(events.map((m) => m.topic));
    assert.equal(seen.size, 1000);
    for (let c = 0; c < 10; c++) for (let i = 0; i < 100; i++) assert.ok(seen.has(`D${c}/E${i}`));
    assert.equal(events.filter((m) => m.payload.kind === 'set').length, 500);
  });

  it('framing: delimiter, json and close modes', async () => {
    for (const [cfg, chunks, expect] of [
      [{ framing: 'delimiter', delimiter: ';', heartbeatTemplate: 'DeviceId=%NAME% %ALLSENSORS@%;' }, ['DeviceId=G1 C=@19.4@ RH=@4', '8.5@;DeviceId=G2 C=@1@;'], ['G1/heartbeat', 'G2/heartbeat']],
      [{ framing: 'json' }, ['{"device":"Q","event":"Vape","Status":"true"}{"dev', 'ice":"Q","event":"Vape","Status":"reset"}'], ['Q/Vape', 'Q/Vape']],
      [{ framing: 'close', format: 'template', setTemplate: 'halo.event.%EID% from %NAME%\\n' }, ['halo.event.Vape ', 'from Lobby\n'], ['Lobby/Vape']],
    ] as Array<[Record<string, unknown>, string[], string[]]>) {
      const { events, health, port } = await load({ port: 0, ...cfg });
      await sendTcp(port, chunks);
      await until(() => events.length + health.filter((m) => m.topic?.endsWith('/heartbeat')).length >= expect.length, JSON.stringify(cfg));
      const topics = [...events, ...health.filter((m) => m.topic?.endsWith('/heartbeat'))].map((m) => m.topic);
      assert.deepEqual(topics, expect);
      await helper.unload();
    }
  });

  // Reset (RST), idle timeout and close: test/lib/halo/receiver.test.ts (FakeClock, deterministic).
  it('text left unterminated when the HALO ends the connection is still delivered', async () => {
    const tail = '{"device":"H","event":"Vape","alarm":"yes"}';
    for (const framing of ['newline', 'delimiter'] as const) {
      const { events, port } = await load({ port: 0, framing, delimiter: ';' });
      await sendTcp(port, [`{"device":"H","event":"CO","alarm":"yes"}${framing === 'newline' ? '\n' : ';'}`, tail]); // then FIN
      await until(() => events.length === 2, `${framing}: both messages`);
      assert.deepEqual(
        events.map((m) => [m.topic, m.payload.kind]),
        [
          ['H/CO', 'set'],
          ['H/Vape', 'set'],
        ],
      );
      assert.equal(events[1].raw, tail);
      await helper.unload();
    }
  });

  it('warns at deploy when %ALLSENSORSNL% meets newline framing on TCP, and not otherwise', async () => {
    const hb = '{"type":"heartbeat","name":"%NAME%","sensors":"%ALLSENSORSNL%"};';
    const warned = async (cfg: Record<string, unknown>): Promise<string[]> => {
      const { node } = await load({ port: 0, heartbeatTemplate: hb, ...cfg });
      const texts = (node as unknown as { warn: { args: unknown[][] } }).warn.args.map((a) => String(a[0]));
      await helper.unload();
      return texts.filter((t) => t.includes('%ALLSENSORSNL%'));
    };
    const w = await warned({ framing: 'newline' });
    assert.equal(w.length, 1);
    assert.match(w[0], /"Heartbeat" uses %ALLSENSORSNL%/);
    assert.match(w[0], /delimiter framing/);
    assert.equal((await warned({ framing: 'delimiter', delimiter: '\\n' })).length, 1, 'a bare line-feed delimiter splits it too');
    assert.deepEqual(await warned({ framing: 'delimiter', delimiter: ';' }), []);
    assert.deepEqual(await warned({ framing: 'json' }), []);
    assert.deepEqual(await warned({ transport: 'udp' }), []);
    assert.deepEqual(await warned({ framing: 'newline', heartbeatTemplate: RECOMMENDED_TEMPLATES.heartbeat }), []);
  });

  it('oversize: dropped with a warning naming the remote, that connection closed, others unaffected', async () => {
    const { node, events, port } = await load({ port: 0, maxMessageBytes: 1024, format: 'json' });
    const warns = calls(node, 'warn');
    const good = await sendTcp(port, ['{"device":"A","event":"E1","alarm":"yes"}\n'], true);
    const bad = await sendTcp(port, ['x'.repeat(3000)], true);
    const badPort = bad.localPort;
    await closed(bad);
    good.write('{"device":"A","event":"E2","alarm":"yes"}\n');
    await until(() => events.length === 2, 'good messages');
    assert.deepEqual(
      events.map((m) => m.topic),
      ['A/E1', 'A/E2'],
    );
    const w = warns.map((c) => String(c.args[0])).find((t) => t.includes('over 1024 bytes'));
    assert.ok(w, 'oversize warning');
    assert.match(w, new RegExp(`127\\.0\\.0\\.1:${badPort}`));
    good.end();
  });

  it('garbage and unmatched text: kind "unknown" plus a warning, never lost', async () => {
    const { node, events, port } = await load({ port: 0 });
    const warns = calls(node, 'warn');
    await sendTcp(port, [Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]), 'hello there\n', '{"foo":1}\n', '{"device":broken\n']);
    await until(() => events.length === 4, 'unknown messages');
    assert.ok(events.every((m) => m.payload.kind === 'unknown'));
    assert.equal(events[1].raw, 'hello there');
    assert.deepEqual(events[2].payload.json, { foo: 1 });
    assert.ok(warns.some((c) => /not understood/.test(String(c.args[0]))));
  });

  it('refused source IPs: counted, shown in status, warned through the rate limiter (5, then one summary)', async () => {
    const clock = new FakeClock(1_000_000);
    helper.settings({ vigilClock: clock } as never);
    try {
      const { node, events, port } = await load({ port: 0, allow: '10.0.0.0/8, ::2' });
      const warns = calls(node, 'warn');
      const statuses = calls(node, 'status');
      for (let i = 0; i < 8; i++) {
        const s = await sendTcp(port, ['{"device":"A","event":"E","alarm":"yes"}\n'], true);
        await closed(s);
      }
      await until(() => statuses.some((c) => /8 refused/.test(String((c.args[0] as { text?: string }).text))), 'status with count');
      assert.equal(warns.filter((c) => /refused 127\.0\.0\.1/.test(String(c.args[0]))).length, 5);
      clock.advance(60_000);
      const summary = (): string[] => warns.map((c) => String(c.args[0])).filter((t) => /^3 more warning\(s\) like this in the last 60 s \(refused\)/.test(t));
      await until(() => summary().length === 1, 'one summary line for the 3 held back');
      assert.equal(events.length, 0);
    } finally {
      helper.settings({});
    }
  });

  it('udp: refused and oversize datagrams', async () => {
    const { node, events, port } = await load({ transport: 'udp', port: 0, maxMessageBytes: 100 });
    const warns = calls(node, 'warn');
    const u = dgram.createSocket('udp4');
    await new Promise<void>((r) => u.send('y'.repeat(500), port, '127.0.0.1', () => r()));
    await new Promise<void>((r) => u.send('{"device":"U","event":"E","alarm":"yes"}', port, '127.0.0.1', () => r()));
    await until(() => events.length === 1, 'the good datagram');
    assert.ok(warns.some((c) => /over 100 bytes/.test(String(c.args[0]))));
    u.close();
  });

  it('connection cap and idle timeout', async () => {
    const { node, port } = await load({ port: 0, maxConnections: 2, idleTimeout: 0.2 });
    const warns = calls(node, 'warn');
    const a = await sendTcp(port, [], true);
    const b = await sendTcp(port, [], true);
    // Connected in order, so accepted in order (one listen queue, taken first in, first out): c is the third.
    const c = await sendTcp(port, [], true);
    await closed(c);
    assert.ok(warns.some((w) => /already 2 connections/.test(String(w.args[0]))));
    await Promise.all([closed(a), closed(b)]); // closed by the idle timeout
  });

  it('reports a port already in use and frees its port on close', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const { node } = await load({ port });
    const errors = (node as unknown as { error: { args: unknown[][] } }).error.args;
    await until(() => errors.length > 0, 'listen error');
    assert.match(String(errors[0][0]), /cannot listen/);
    await helper.unload();
    await new Promise((r) => blocker.close(r));
    await load({ port });
    await helper.unload();
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(port, '127.0.0.1', () => resolve());
    });
    again.close();
  });

  it('bad settings: a clear error, no crash', async () => {
    const { node } = await load({ port: '' }) // no port (0 would let the OS pick one);
    const errorsNow = (node as unknown as { error: { callCount: number } }).error.callCount;
    assert.ok(errorsNow >= 1);
    await helper.unload();
    const r = await load({ port: 0, allow: 'not-an-ip' });
    assert.ok((r.node as unknown as { error: { callCount: number } }).error.callCount >= 1);
  });

  describe('partner payloads and credentials (issue #13)', () => {
    const creds = { username: 'access-key-7', password: 'se:cr/et' };
    async function loadAuthed(): Promise<{ port: number; events: Msg[]; statuses: SpyCall[] }> {
      const flow: Flow = [
        { id: 'in1', type: 'halo-in', transport: 'http', path: '/halo/partner', format: 'auto', heartbeatInterval: 0, wires: [['ev'], ['hb']] },
        { id: 'ev', type: 'helper' },
        { id: 'hb', type: 'helper' },
      ];
      const RED = await loadKeepingRED(haloIn, flow, { in1: creds });
      const { server, port } = await serveOnLoopback(RED.httpNode);
      servers.push(server);
      const events: Msg[] = [];
      helper.getNode('ev').on('input', (m: object) => events.push(m as Msg));
      return { port, events, statuses: calls(helper.getNode('in1'), 'status') };
    }

    for (const shape of ['flat', 'nested'] as const) {
      it(`${shape} partner payloads over HTTP with Basic credentials: set and reset with device, event, value, MAC`, async () => {
        const { port, events } = await loadAuthed();
        const s = await sim(`http://127.0.0.1:${port}/halo/partner`, { templates: PARTNER_TEMPLATES[shape], pushAuth: creds });
        const set = await s.trigger('set', 'Gunshot', { value: 77 });
        assert.equal(set?.[0].status, 200);
        const reset = await s.trigger('reset', 'Gunshot');
        assert.equal(reset?.[0].status, 200);
        await until(() => events.length === 2, 'two events');
        for (const [i, kind] of (['set', 'reset'] as const).entries()) {
          const p = events[i].payload;
          assert.equal(events[i].topic, 'Hallway-2F/Gunshot');
          assert.deepEqual({ kind: p.kind, active: p.active, device: p.device, event: p.event, mac: p.mac, ip: p.ip }, { kind, active: kind === 'set', device: 'Hallway-2F', event: 'Gunshot', mac: '0011223344AA', ip: '10.1.2.3' });
          assert.equal(typeof p.value, 'number');
          assert.ok(String(events[i].raw).startsWith('{'), 'msg.raw keeps the text');
        }
        assert.equal(events[0].payload.value, 77);
      });
    }

    it('wrong or missing credentials: 401 with WWW-Authenticate, nothing emitted, counted in the status; the query form works and is stripped', async () => {
      const { port, events, statuses } = await loadAuthed();
      const url = `http://127.0.0.1:${port}/halo/partner`;
      const body = JSON.stringify({ sensorName: 'A', eventType: 'Vape', status: 'Set' });
      const missing = await fetch(url, { method: 'POST', body });
      assert.equal(missing.status, 401);
      assert.equal(missing.headers.get('www-authenticate'), 'Basic realm="halo-in"');
      const wrong = await fetch(url, { method: 'POST', body, headers: { Authorization: `Basic ${Buffer.from('access-key-7:nope').toString('base64')}` } });
      assert.equal(wrong.status, 401);
      const badQuery = await fetch(`${url}?user=access-key-7&pswd=nope&dev=A&evt=Vape&state=set`);
      assert.equal(badQuery.status, 401);
      await until(() => statuses.some((c) => /3 unauthorised/.test(String((c.args[0] as { text?: string }).text))), 'counted');
      assert.equal(events.length, 0);
      const q = await fetch(`${url}?device=A&user=access-key-7&pswd=${encodeURIComponent('se:cr/et')}&event=Vape&alarm=yes`);
      assert.equal(q.status, 200);
      await until(() => events.length === 1, 'the query-authorised event');
      assert.equal(events[0].payload.kind, 'unknown', 'a GET carries its data in the URL: matched only by a template');
      assert.ok(!String(events[0].raw).includes('se:cr') && !String(events[0].raw).includes('pswd'), `the secret never reaches the message: ${events[0].raw}`);
    });

    it('an unrecognised nested shape is unknown with the reason', async () => {
      const { port, events } = await loadAuthed();
      const auth = { Authorization: `Basic ${Buffer.from('access-key-7:se:cr/et').toString('base64')}` };
      const res = await fetch(`http://127.0.0.1:${port}/halo/partner`, { method: 'POST', headers: auth, body: '{"report":{"rows":{"a":1}},"meta":{"v":2}}' });
      assert.equal(res.status, 200);
      await until(() => events.length === 1, 'unknown');
      assert.equal(events[0].payload.kind, 'unknown');
      assert.match(String(events[0].payload.reason), /names no HALO event or heartbeat \(looked at 5 key\(s\) to depth 4\)/);
    });
  });
});
