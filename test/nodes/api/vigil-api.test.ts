/**
 * vigil-api in Node-RED (node-red-node-test-helper): its own port with a token, mounted on
 * Node-RED's server under a path, honest status, errors without a system or with a taken
 * port, and a close that frees the port, the upgrade handler and the routes.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { WebSocket } from 'ws';
import { FakeClock } from '../../../lib/common/clock';
import { SystemHub } from '../../../lib/system/hub';
import { boundPort, helper, nodeModule, until, type RedModule } from '../../helpers/nodered';
import { Client, isReply, isStatus } from '../../lib/api/helpers';

const apiModule = nodeModule('vigil-api');

/** A stand-in `vigil-system` (the real config node lives in the alarm area): it only holds a hub. */
const hubs: SystemHub[] = [];
const systemStub: RedModule = (RED) => {
  RED.nodes.registerType('vigil-system', function (this: Node & { hub: SystemHub }, config: NodeDef) {
    RED.nodes.createNode(this, config);
    this.hub = new SystemHub({ name: config.name });
    this.hub.setCommandHandler((name, data) => (name === 'test' ? { status: 'OK' } : { error: `no ${name} here: ${JSON.stringify(data)}` }));
    hubs.push(this.hub);
    this.on('close', (done: () => void) => {
      this.hub.dispose();
      done();
    });
  });
};

function open(url: string, headers?: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function nextText(ws: WebSocket, pred: (m: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (data: Buffer, binary: boolean): void => {
      if (binary) return;
      const m = JSON.parse(data.toString()) as Record<string, unknown>;
      if (pred(m)) {
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
  });
}

function closeWs(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.terminate();
  });
}

describe('vigil-api node', function () {
  const sockets: WebSocket[] = [];
  beforeEach(async () => {
    hubs.length = 0;
    await helper.startServer();
  });
  afterEach(async () => {
    for (const ws of sockets.splice(0)) await closeWs(ws);
    await helper.unload();
    await helper.stopServer();
  });

  it('own port: serves the API for its system, with a bearer token on every route, and shows client count', async function () {
    const flow = [
      { id: 's1', type: 'vigil-system', name: 'home' },
      { id: 'a1', type: 'vigil-api', name: '', system: 's1', listen: 'port', host: '127.0.0.1', port: 0 },
    ];
    await helper.load([systemStub, apiModule], flow, { a1: { token: 'tok' } });
    const api = helper.getNode('a1');
    const hub = hubs[0];
    await until(() => (api.status as unknown as sinon.SinonSpy).lastCall?.args[0]?.fill === 'green', 'listening status');
    const port = boundPort(api) ?? 0; // given port 0: the OS picked this one
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${base}/health`)).status, 401);
    const h = await fetch(`${base}/health`, { headers: { Authorization: 'Bearer tok' } });
    assert.equal(await h.text(), 'OK\n');
    await assert.rejects(open(`ws://127.0.0.1:${port}/`), /401/);
    const ws = await open(`ws://127.0.0.1:${port}/`, { Authorization: 'Bearer tok' });
    sockets.push(ws);
    await until(() => (api.status as unknown as sinon.SinonSpy).lastCall?.args[0]?.shape === 'dot', 'client status');
    const status = nextText(ws);
    hub.publishStatus({ timeStamp: 1, state: 'on', initialAlarm: 0, silencedTill: null });
    assert.deepEqual(await status, { timeStamp: 1, state: 'on', initialAlarm: 0, silencedTill: null });
    const reply = nextText(ws, (m) => 'status' in m || 'error' in m);
    ws.send(JSON.stringify({ command: 'test', data: { excluded: [] } }));
    assert.deepEqual(await reply, { status: 'OK' });
    const cfg = (await (await fetch(`${base}/config?access_token=tok`)).json()) as Record<string, Record<string, unknown>>;
    assert.deepEqual(cfg.server, { host_name: '127.0.0.1', video_save_dir: '', websocket_port: port, webserver_port: port });
    assert.equal(cfg.monitoring, null);
  });

  it('node-red mode: mounted on RED.server under httpNodeRoot + path; close removes the upgrade handler and the routes', async function () {
    let captured: NodeAPI | undefined;
    const capture: RedModule = (RED) => {
      captured = RED;
      apiModule(RED);
    };
    const flow = [
      { id: 's1', type: 'vigil-system', name: 'home' },
      { id: 'a1', type: 'vigil-api', system: 's1', listen: 'node-red', path: '/cam' },
    ];
    await helper.load([systemStub, capture], flow);
    const RED = captured as NodeAPI;
    const hub = hubs[0];
    // RED.httpNode in the test helper is a bare express app: serve it ourselves.
    const nodeApp = http.createServer(RED.httpNode as unknown as http.RequestListener);
    await new Promise<void>((r) => nodeApp.listen(0, '127.0.0.1', () => r()));
    try {
      const hp = (nodeApp.address() as { port: number }).port;
      assert.equal(await (await fetch(`http://127.0.0.1:${hp}/cam/health`)).text(), 'OK\n');
      const page = await fetch(`http://127.0.0.1:${hp}/cam/`);
      assert.match(await page.text(), /<html/i);
      const js = await fetch(`http://127.0.0.1:${hp}/cam/static/monitor.js`);
      assert.equal(js.status, 200);
      const redirect = await fetch(`http://127.0.0.1:${hp}/cam`, { redirect: 'manual' });
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.get('location'), '/cam/');
      // websockets on Node-RED's own server
      const wsBase = helper.url().replace(/^http/, 'ws');
      const video = await open(`${wsBase}/cam/raw-video`);
      sockets.push(video);
      const got = new Promise<Buffer>((resolve) => video.once('message', (d: Buffer) => resolve(d)));
      hub.publishFrame(Buffer.from([0xff, 0xd8, 1, 2, 0xff, 0xd9]), { seq: 1, width: 2, height: 2, timestamp: 0 });
      assert.deepEqual([...(await got)], [0xff, 0xd8, 1, 2, 0xff, 0xd9]);
      const before = RED.server.listenerCount('upgrade');
      await helper.unload();
      assert.equal(RED.server.listenerCount('upgrade'), before - 1, 'upgrade handler removed');
      assert.equal((await fetch(`http://127.0.0.1:${hp}/cam/health`)).status, 404, 'routes removed');
    } finally {
      await new Promise<void>((r) => nodeApp.close(() => r()));
    }
  });

  it('with the real vigil-system and vigil-alarm: status, silence, test, /config and shutdown through a real ws client', async function () {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 22, 0, 0));
    helper.settings({ vigilClock: clock } as unknown as Parameters<typeof helper.settings>[0]);
    try {
      const flow = [
        { id: 'tab', type: 'tab', label: 'api' },
        { id: 's1', type: 'vigil-system', name: 'home', allowExit: false },
        { id: 'al', z: 'tab', type: 'vigil-alarm', system: 's1', startTime: '00:00', endTime: '00:00', timezone: 'UTC', alertTimeS: 45, minMovementS: 2, initialAlarmDurationM: 60, alarmHysteresisS: 30, wires: [[], []] },
        { id: 'a1', z: 'tab', type: 'vigil-api', system: 's1', listen: 'port', host: '127.0.0.1', port: 0 },
      ];
      await helper.load([nodeModule('vigil-system'), nodeModule('vigil-alarm'), apiModule], flow);
      const api = helper.getNode('a1');
      await until(() => (api.status as unknown as sinon.SinonSpy).lastCall?.args[0]?.fill === 'green', 'listening');
      const port = boundPort(api) ?? 0; // given port 0: the OS picked this one
      const ws = await open(`ws://127.0.0.1:${port}/`);
      sockets.push(ws);
      const first = nextText(ws, (m) => 'state' in m);
      clock.advance(1000);
      const s = await first;
      assert.deepEqual(Object.keys(s).sort(), ['initialAlarm', 'silencedTill', 'state', 'timeStamp']);
      assert.equal(s.state, 'on');
      const silenced = nextText(ws, (m) => m.state === 'silenced');
      const ok = nextText(ws, (m) => 'status' in m || 'error' in m);
      ws.send(JSON.stringify({ command: 'silence', data: { silenceFor: 1 } }));
      assert.deepEqual(await ok, { status: 'OK' });
      const sil = await silenced;
      assert.equal(sil.silencedTill, clock.now() / 1000 + 1);
      const back = nextText(ws, (m) => m.state === 'on');
      clock.advance(1000);
      await back;
      const tested = nextText(ws, (m) => 'status' in m || 'error' in m);
      ws.send(JSON.stringify({ command: 'test', data: { excluded: ['telegram'] } }));
      assert.deepEqual(await tested, { status: 'OK' });
      const cfg = (await (await fetch(`http://127.0.0.1:${port}/config`)).json()) as Record<string, Record<string, unknown>>;
      assert.equal(cfg.alerting.alert_time_s, 45);
      cfg.alerting.alarm_hysteresis_s = 90;
      const updated = nextText(ws, (m) => 'status' in m || 'error' in m);
      ws.send(JSON.stringify({ command: 'config_update', data: { config: cfg } }));
      assert.deepEqual(await updated, { status: 'OK' });
      const after = (await (await fetch(`http://127.0.0.1:${port}/config`)).json()) as Record<string, Record<string, unknown>>;
      assert.equal(after.alerting.alarm_hysteresis_s, 90);
      const shut = nextText(ws, (m) => 'status' in m || 'error' in m);
      ws.send(JSON.stringify({ command: 'shutdown', data: { shutdownIn: 0 } }));
      assert.deepEqual(await shut, { status: 'OK' });
      clock.advance(0);
      assert.equal(ws.readyState, WebSocket.OPEN);
    } finally {
      helper.settings({});
    }
  });

  describe("the reference's own clients (issue 13): flags, round trip, binary frames, reply before broadcast", () => {
    const clients: Client[] = [];
    let clock: FakeClock;
    beforeEach(() => {
      clock = new FakeClock(Date.UTC(2026, 0, 1, 22, 0, 0));
      helper.settings({ vigilClock: clock } as unknown as Parameters<typeof helper.settings>[0]);
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) await c.close();
      helper.settings({});
    });

    /** A whole system (camera, motion, alarm always on, telegram, api) on one port. */
    async function wholeSystem(): Promise<{ base: string; ws: Client; hub: SystemHub }> {
      const flow = [
        { id: 'tab', type: 'tab', label: 'api' },
        { id: 's1', type: 'vigil-system', name: 'home', allowExit: false },
        { id: 'cam', z: 'tab', type: 'vigil-camera', system: 's1', source: 'input', fps: 0, wires: [['mo']] },
        { id: 'mo', z: 'tab', type: 'vigil-motion', system: 's1', fps: 2, engine: 'sharp', wires: [['al'], []] },
        { id: 'al', z: 'tab', type: 'vigil-alarm', system: 's1', startTime: '00:00', endTime: '00:00', timezone: 'UTC', wires: [[], ['tg']] },
        { id: 'tg', z: 'tab', type: 'vigil-telegram', system: 's1', chatIds: '1', apiBase: 'http://127.0.0.1:1' },
        { id: 'a1', z: 'tab', type: 'vigil-api', system: 's1', listen: 'port', host: '127.0.0.1', port: 0 },
      ];
      const mods = ['vigil-system', 'vigil-camera', 'vigil-motion', 'vigil-alarm', 'vigil-telegram'].map((t) => nodeModule(t));
      await helper.load([...mods, apiModule], flow, { tg: { apiKey: '1:secret' } });
      const api = helper.getNode('a1');
      await until(() => (api.status as unknown as sinon.SinonSpy).lastCall?.args[0]?.fill === 'green', 'listening');
      const port = boundPort(api) ?? 0; // given port 0: the OS picked this one
      clock.advance(1); // the alarm starts on the next turn of the flow clock
      const ws = new Client(`ws://127.0.0.1:${port}/`);
      clients.push(ws);
      await ws.open();
      return { base: `http://127.0.0.1:${port}`, ws, hub: (helper.getNode('s1') as unknown as { hub: SystemHub }).hub };
    }

    type Doc = Record<string, Record<string, unknown> | null>;
    const types = (o: Record<string, unknown> | null): Record<string, string> => Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v]));

    /** GET /config and check it against the reference clients' model: every required section, with its types. */
    async function referenceConfig(base: string): Promise<Doc> {
      const doc = (await (await fetch(`${base}/config`)).json()) as Doc;
      assert.deepEqual(Object.keys(doc), ['server', 'camera', 'flags', 'processing', 'alerting', 'alerters', 'monitoring']);
      assert.deepEqual(types(doc.flags), { config_path: 'string', silent: 'boolean', log_level: 'string', test: 'boolean', file: 'null' });
      // Node-RED's own console log level (the test helper runs with logging 'off')
      assert.deepEqual(doc.flags, { config_path: '', silent: false, log_level: 'off', test: false, file: null });
      assert.deepEqual(types(doc.server), { host_name: 'string', video_save_dir: 'string', websocket_port: 'number', webserver_port: 'number' });
      assert.equal(types(doc.camera).url, 'string');
      for (const k of ['fps', 'avg_weighting', 'dilation_iterations', 'fixed_lvl_threshold', 'gauss_ksize', 'pixel_threshold_lo', 'pixel_threshold_hi']) assert.equal(types(doc.processing)[k], 'number', k);
      for (const k of ['start_time', 'end_time']) assert.equal(types(doc.alerting)[k], 'string', k);
      for (const k of ['alert_time_s', 'min_movement_s', 'initial_alarm_duration_m', 'alarm_hysteresis_s']) assert.equal(types(doc.alerting)[k], 'number', k);
      assert.ok(doc.alerters !== null && typeof doc.alerters === 'object' && !Array.isArray(doc.alerters), 'alerters is a table');
      assert.equal(doc.monitoring, null);
      return doc;
    }

    it('/config has all seven sections with the reference types; the served document round-trips through config_update', async function () {
      const { base, ws } = await wholeSystem();
      const doc = await referenceConfig(base);
      assert.deepEqual(types((doc.alerters as Record<string, Record<string, unknown>>).telegram).api_key, 'string');
      assert.equal((doc.alerters as Record<string, Record<string, unknown>>).telegram.api_key, '********');
      // The reference UI's round trip: GET, send back whole (flags included), OK, nothing changed.
      assert.deepEqual(await ws.ask({ command: 'config_update', data: { config: doc } }), { status: 'OK' });
      assert.deepEqual(await (await fetch(`${base}/config`)).json(), doc);
      // flags sent back are ignored, whatever path they name
      const flagged = { ...doc, flags: { config_path: '/etc/passwd', silent: true, log_level: 'trace', test: true, file: '/etc/shadow' } };
      assert.deepEqual(await ws.ask({ command: 'config_update', data: { config: flagged } }), { status: 'OK' });
      assert.deepEqual(await (await fetch(`${base}/config`)).json(), doc);
    });

    it('a system without camera and detector (activity from another sensor): stand-ins keep /config whole; sent back unchanged OK, changed refused', async function () {
      const flow = [
        { id: 'tab', type: 'tab', label: 'api' },
        { id: 's1', type: 'vigil-system', name: 'door', allowExit: false },
        { id: 'al', z: 'tab', type: 'vigil-alarm', system: 's1', startTime: '00:00', endTime: '00:00', timezone: 'UTC', alertTimeS: 45, wires: [[], []] },
        { id: 'a1', z: 'tab', type: 'vigil-api', system: 's1', listen: 'port', host: '127.0.0.1', port: 0 },
      ];
      await helper.load([nodeModule('vigil-system'), nodeModule('vigil-alarm'), apiModule], flow);
      const api = helper.getNode('a1');
      await until(() => (api.status as unknown as sinon.SinonSpy).lastCall?.args[0]?.fill === 'green', 'listening');
      const base = `http://127.0.0.1:${boundPort(api) ?? 0}`;
      const ws = new Client(`ws://${base.slice('http://'.length)}/`);
      clients.push(ws);
      await ws.open();

      const doc = await referenceConfig(base);
      assert.deepEqual(doc.camera, { url: '' }, 'there is no camera');
      // vigil-motion's and vigil-alarm's defaults (the alarm's own section where it is a member)
      assert.deepEqual(doc.processing, { fps: 2, avg_weighting: 0.5, dilation_iterations: 0, fixed_lvl_threshold: 5, gauss_ksize: 13, pixel_threshold_hi: 10000, pixel_threshold_lo: 0, resize_width: 640, engine: 'auto' });
      assert.equal(doc.alerting?.alert_time_s, 45);
      assert.deepEqual(doc.alerters, {});

      // The reference UI's round trip, then a change to the alarm's own section: both OK.
      assert.deepEqual(await ws.ask({ command: 'config_update', data: { config: doc } }), { status: 'OK' });
      assert.deepEqual(await (await fetch(`${base}/config`)).json(), doc);
      const later = { ...doc, alerting: { ...doc.alerting, alarm_hysteresis_s: 90 } };
      assert.deepEqual(await ws.ask({ command: 'config_update', data: { config: later } }), { status: 'OK' });
      const served = await referenceConfig(base);
      assert.equal(served.alerting?.alarm_hysteresis_s, 90);

      // A changed stand-in refuses the whole update (the alerting change with it); the socket stays open.
      const changed = { ...served, camera: { url: 'rtsp://127.0.0.1:1/cam' }, processing: { ...served.processing, fps: 5 }, alerting: { ...served.alerting, alarm_hysteresis_s: 30 } };
      assert.deepEqual(await ws.ask({ command: 'config_update', data: { config: changed } }), {
        error: [
          { loc: ['data', 'config', 'camera'], msg: 'this system has no vigil-camera node: the camera settings cannot be changed here', type: 'value_error' },
          { loc: ['data', 'config', 'processing'], msg: 'this system has no vigil-motion node: the processing settings cannot be changed here', type: 'value_error' },
        ],
      });
      assert.equal(ws.ws.readyState, WebSocket.OPEN);
      assert.deepEqual(await (await fetch(`${base}/config`)).json(), served, 'nothing changed');
      assert.deepEqual(await ws.ask({ command: 'test', data: { excluded: [] } }), { status: 'OK' }, 'the socket still answers');
    });

    it('the stand-ins are what vigil-camera, vigil-motion and vigil-alarm serve with their defaults (url aside: there is no camera)', async function () {
      const flow = [
        { id: 'tab', type: 'tab', label: 'api' },
        { id: 's1', type: 'vigil-system', name: 'bare', allowExit: false },
        { id: 'a1', z: 'tab', type: 'vigil-api', system: 's1', listen: 'port', host: '127.0.0.1', port: 0 },
        { id: 's2', type: 'vigil-system', name: 'defaults', allowExit: false },
        { id: 'cam', z: 'tab', type: 'vigil-camera', system: 's2', source: 'input', wires: [[]] },
        { id: 'mo', z: 'tab', type: 'vigil-motion', system: 's2', wires: [[], []] },
        { id: 'al', z: 'tab', type: 'vigil-alarm', system: 's2', wires: [[], []] },
      ];
      const mods = ['vigil-system', 'vigil-camera', 'vigil-motion', 'vigil-alarm'].map((t) => nodeModule(t));
      await helper.load([...mods, apiModule], flow);
      const api = helper.getNode('a1');
      await until(() => (api.status as unknown as sinon.SinonSpy).lastCall?.args[0]?.fill === 'green', 'listening');
      const doc = await referenceConfig(`http://127.0.0.1:${boundPort(api) ?? 0}`);
      const members = (helper.getNode('s2') as unknown as { hub: SystemHub }).hub.getConfig();
      assert.deepEqual(doc.camera, { url: '' });
      assert.deepEqual(Object.keys(doc.camera ?? {}), Object.keys(members.camera ?? {}));
      assert.deepEqual(doc.processing, members.processing);
      assert.deepEqual(doc.alerting, members.alerting);
    });

    it('a command in a binary frame (UTF-8 JSON) is answered like a text one', async function () {
      const { ws } = await wholeSystem();
      const from = ws.got.text.length;
      ws.ws.send(Buffer.from(JSON.stringify({ command: 'test', data: { excluded: ['nobody'] } }), 'utf8'), { binary: true });
      assert.deepEqual(await ws.next(isReply, from), { status: 'OK' });
      const bad = ws.got.text.length;
      ws.ws.send(Buffer.from('{"command":"silence","data":{"silenceFor":"soon"}}'), { binary: true });
      assert.deepEqual(await ws.next(isReply, bad), { error: [{ loc: ['data', 'silenceFor'], msg: 'value is not a valid float', type: 'type_error.float' }] });
    });

    it('the reply to silence, test and config_update reaches its sender before the status broadcast the command caused', async function () {
      const { base, ws, hub } = await wholeSystem();
      /** Send, wait for the reply and the status with `state`; the reply must be the first message. */
      const ordered = async (body: unknown, state?: string): Promise<void> => {
        const from = ws.got.text.length;
        ws.ws.send(JSON.stringify(body));
        assert.deepEqual(await ws.next(isReply, from), { status: 'OK' });
        if (state) await ws.next((m) => isStatus(m) && m.state === state, from);
        assert.ok(isReply(ws.got.text[from]), `the first message after ${JSON.stringify(body)} was ${JSON.stringify(ws.got.text[from])}`);
      };
      await ordered({ command: 'silence', data: { silenceFor: 60 } }, 'silenced');
      await ordered({ command: 'test', data: { excluded: ['telegram'] } });
      await ordered({ command: 'silence', data: { silenceFor: 0 } });
      clock.advance(1); // silenceFor 0 unsilences on the next turn
      await ws.next((m) => isStatus(m) && m.state === 'on');
      const doc = (await (await fetch(`${base}/config`)).json()) as Record<string, Record<string, unknown>>;
      doc.alerting.start_time = '08:00';
      doc.alerting.end_time = '09:00'; // 22:00 UTC is outside: the alarm turns off
      await ordered({ command: 'config_update', data: { config: doc } }, 'off');
      assert.equal(hub.status?.state, 'off');
    });
  });

  it('without a system: red status and a clear error, no server', async function () {
    const flow = [{ id: 'a1', type: 'vigil-api', listen: 'port', port: 1 }];
    await helper.load([systemStub, apiModule], flow);
    const api = helper.getNode('a1');
    assert.equal((api.status as unknown as sinon.SinonSpy).lastCall.args[0].fill, 'red');
    assert.match(String((api.error as unknown as sinon.SinonSpy).lastCall.args[0]), /noSystem/);
  });

  it('a port in use: red status and an error naming it; close frees its own port for a redeploy', async function () {
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    const portFlow = [
      { id: 's1', type: 'vigil-system' },
      { id: 'a1', type: 'vigil-api', system: 's1', listen: 'port', host: '127.0.0.1', port },
    ];
    try {
      await helper.load([systemStub, apiModule], portFlow);
      const api = helper.getNode('a1');
      await until(() => (api.status as unknown as sinon.SinonSpy).lastCall?.args[0]?.fill === 'red', 'error status');
      assert.match(String((api.error as unknown as sinon.SinonSpy).lastCall.args[0]), /listen/);
      await helper.unload();
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    // deploy, close, deploy again on the same port
    for (let i = 0; i < 2; i++) {
      await helper.load([systemStub, apiModule], portFlow);
      const api = helper.getNode('a1');
      await until(() => (api.status as unknown as sinon.SinonSpy).lastCall?.args[0]?.fill === 'green', 'listening');
      const ws = await open(`ws://127.0.0.1:${port}/metrics`);
      sockets.push(ws);
      await helper.unload();
      await until(() => ws.readyState === WebSocket.CLOSED, 'client closed by close()');
    }
  });
});
