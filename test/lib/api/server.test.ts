/**
 * The API server against a real SystemHub, a fake alarm and real `ws` clients on loopback:
 * the reference app's own integration cases (camera-alarm.md §11 items 1–9), every error
 * case of §8.2 with the socket kept open, per-sender replies, auth, ping reaping and the
 * slow-client case. Time rules run on a FakeClock.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { FakeClock } from '../../../lib/common/clock';
import { SystemHub } from '../../../lib/system/hub';
import { ApiServer } from '../../../lib/api/server';
import type { MetricsSource } from '../../../lib/api/metrics';
import { ProcessMetrics } from '../../../lib/api/metrics';
import { serverSection } from '../../../lib/api/section';
import { Client, FakeAlarm, fakeJpeg, isStatus, plainMember } from './helpers';
import { until } from '../../helpers/wait';

const NINE = ['timeStamp', 'sysCpuPercent', 'sysMemPercent', 'capCpuPercent', 'capMemPercent', 'socketConnections', 'loopAvgS', 'loopMaxS', 'loopMinS'];

interface Rig {
  clock: FakeClock;
  hub: SystemHub;
  alarm: FakeAlarm;
  api: ApiServer;
  port: number;
  base: string;
  http: string;
  clients: Client[];
  connect(path: string, headers?: Record<string, string>): Promise<Client>;
  telegram: ReturnType<typeof plainMember>;
  careless: ReturnType<typeof plainMember>;
  processing: ReturnType<typeof plainMember>;
}

async function rig(opts: { token?: string; maxBufferedBytes?: number; metrics?: MetricsSource } = {}): Promise<Rig> {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 22, 0, 0));
  const hub = new SystemHub({ clock, name: 'test' });
  const alarm = new FakeAlarm(hub, clock);
  let port = 0;
  hub.register(serverSection(() => ({ host: '127.0.0.1', port })));
  hub.register(plainMember('camera', { url: 'http://127.0.0.1:6030/video.mjpeg' }));
  const processing = plainMember('processing', { fps: 2, avg_weighting: 0.5, dilation_iterations: 0, fixed_lvl_threshold: 5, gauss_ksize: 13, pixel_threshold_lo: 0, pixel_threshold_hi: 10000 });
  hub.register(processing);
  hub.register(plainMember('alerting', { start_time: '16:55', end_time: '16:54', alert_time_s: 180, min_movement_s: 10, initial_alarm_duration_m: 30, alarm_hysteresis_s: 60 }));
  const telegram = plainMember('alerters.telegram', { enabled: true, test_grp: true, api_key: '1234567890:secret', chat_ids: ['111'] }, ['api_key']);
  hub.register(telegram);
  // a member that forgot to declare its secret: the API masks it anyway
  const careless = plainMember('alerters.careless', { enabled: true, test_grp: false, password: 'hunter2', ssh_key_path: 'keys/id_rsa' });
  hub.register(careless);
  const api = new ApiServer({ hub, clock, token: opts.token, maxBufferedBytes: opts.maxBufferedBytes, metrics: opts.metrics });
  port = await api.listen(0, '127.0.0.1');
  const clients: Client[] = [];
  return {
    clock,
    hub,
    alarm,
    api,
    port,
    base: `ws://127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port}`,
    clients,
    telegram,
    careless,
    processing,
    async connect(path: string, headers?: Record<string, string>) {
      const c = new Client(`ws://127.0.0.1:${port}${path}`, headers);
      clients.push(c);
      await c.open();
      return c;
    },
  };
}

async function teardown(r: Rig | undefined): Promise<void> {
  if (!r) return;
  for (const c of r.clients) await c.close();
  await r.api.close();
  r.alarm.stop();
  r.hub.dispose();
  assert.equal(r.clock.pending, 0, 'every timer cleared');
}

describe('api server (lib/api)', function () {
  let r: Rig | undefined;
  afterEach(async () => {
    await teardown(r);
    r = undefined;
  });

  describe('reference integration cases (camera-alarm.md §11)', function () {
    it('1. root status: timeStamp, state, silencedTill, initialAlarm at the next tick; nothing on connect', async function () {
      r = await rig();
      const c = await r.connect('/');
      assert.equal(c.got.text.length, 0);
      r.clock.advance(1000);
      const s = await c.next(isStatus);
      assert.deepEqual(Object.keys(s as object).sort(), ['initialAlarm', 'silencedTill', 'state', 'timeStamp']);
      assert.equal((s as { state: string }).state, 'on');
      assert.equal((s as { timeStamp: number }).timeStamp, r.clock.now() / 1000);
    });

    it('2. silence OK: silenced with silencedTill ≈ now+1, then on about 1 s later', async function () {
      r = await rig();
      const c = await r.connect('/');
      const t0 = r.clock.now() / 1000;
      assert.deepEqual(await c.ask({ command: 'silence', data: { silenceFor: 1 } }), { status: 'OK' });
      const s = (await c.next((m) => isStatus(m) && m.state === 'silenced', 0)) as { silencedTill: number };
      assert.ok(Math.abs(s.silencedTill - (t0 + 1)) < 0.01);
      const from = c.got.text.length;
      r.clock.advance(1000);
      await c.next((m) => isStatus(m) && m.state === 'on', from);
      // snake_case works too
      assert.deepEqual(await c.ask({ command: 'silence', data: { silence_for: 180 } }), { status: 'OK' });
      assert.equal(r.alarm.commands.at(-1)?.data.silenceFor, 180);
    });

    it('3. test OK; excluded names reach the alarm', async function () {
      r = await rig();
      const c = await r.connect('/');
      assert.deepEqual(await c.ask({ command: 'test', data: { excluded: [] } }), { status: 'OK' });
      assert.deepEqual(await c.ask({ command: 'test', data: { excluded: ['telegram'] } }), { status: 'OK' });
      assert.deepEqual(r.alarm.tests, [{ excluded: [] }, { excluded: ['telegram'] }]);
      // §12 #10: dispatch on command first: a test payload that also carries silenceFor is a test.
      assert.deepEqual(await c.ask({ command: 'test', data: { excluded: ['telegram'], silenceFor: 5 } }), { status: 'OK' });
      assert.equal(r.alarm.tests.length, 3);
    });

    it('4. config_update OK: GET /config, edit, send back whole (flags served, ignored when sent back; masked secret kept); /config shows the new values', async function () {
      r = await rig();
      const c = await r.connect('/');
      const doc = (await (await fetch(`${r.http}/config`)).json()) as Record<string, Record<string, unknown>>;
      assert.equal((doc.alerters as Record<string, Record<string, unknown>>).telegram.api_key, '********');
      assert.deepEqual(doc.flags, { config_path: '', silent: false, log_level: 'info', test: false, file: null });
      doc.processing.gauss_ksize = 7;
      (doc.alerters as Record<string, Record<string, unknown>>).telegram.enabled = false;
      const sent = { ...doc, flags: { config_path: '/etc/passwd', silent: false, log_level: 'debug', test: false, file: 'null' } };
      assert.deepEqual(await c.ask({ command: 'config_update', data: { config: sent } }), { status: 'OK' });
      const after = (await (await fetch(`${r.http}/config`)).json()) as Record<string, Record<string, unknown>>;
      assert.equal(after.processing.gauss_ksize, 7);
      assert.equal((after.alerters as Record<string, Record<string, unknown>>).telegram.enabled, false);
      assert.equal(r.telegram.value.api_key, '1234567890:secret', 'the masked secret sent back kept the stored one');
      const careless = (doc.alerters as Record<string, Record<string, unknown>>).careless;
      assert.equal(careless.password, '********', 'secret-looking keys are masked even when a member did not declare them');
      assert.equal(careless.ssh_key_path, 'keys/id_rsa', 'a key path is not a secret');
      assert.equal(r.careless.value.password, 'hunter2', 'and a masked value sent back keeps the stored one');
      assert.deepEqual(after.flags, doc.flags, 'flags sent back are ignored');
      // invalid: all or nothing, errors in the pydantic shape with loc from data.config
      const bad = structuredClone(after);
      bad.processing.fps = 'fast';
      bad.processing.gauss_ksize = 9;
      const reply = await c.ask({ command: 'config_update', data: { config: bad } });
      assert.ok(Array.isArray(reply.error));
      assert.deepEqual((reply.error as Array<{ loc: unknown[] }>)[0].loc, ['data', 'config', 'processing', 'fps']);
      assert.equal(r.processing.value.gauss_ksize, 7, 'nothing applied');
    });

    it('5. shutdown OK, then the system shuts down after shutdownIn seconds (a delay, not an absolute time)', async function () {
      r = await rig();
      const c = await r.connect('/');
      const shut: unknown[] = [];
      r.hub.on('shutdown', (i) => shut.push(i));
      assert.deepEqual(await c.ask({ command: 'shutdown', data: { shutdownIn: 3 } }), { status: 'OK' });
      r.clock.advance(2999);
      assert.equal(shut.length, 0);
      r.clock.advance(1);
      assert.deepEqual(shut, [{ source: 'command' }]);
      assert.deepEqual(await c.ask({ command: 'shutdown', data: { shutdownIn: 0 } }), { status: 'OK' });
      r.clock.advance(0);
      assert.equal(shut.length, 2);
      assert.equal(c.ws.readyState, c.ws.OPEN, 'the API itself stays up');
    });

    it('6. bad payloads give an error key (the reference test list)', async function () {
      r = await rig();
      const c = await r.connect('/');
      const cases: Array<[string, Record<string, unknown>]> = [
        ['silence', { wrong_field: 180 }],
        ['silence', { excluded: [] }],
        ['test', { wrong_field: 180 }],
        ['test', { silenced_for: 180 }],
        ['config_update', { wrong_field: 180 }],
        ['config_update', { silenced_for: 180 }],
      ];
      for (const [command, data] of cases) {
        const reply = await c.ask({ command, data });
        assert.ok('error' in reply, `${command} ${JSON.stringify(data)}`);
        assert.equal('status' in reply, false);
      }
      assert.equal(r.alarm.commands.length, 0, 'nothing reached the alarm');
    });

    it('7. /raw-video: each message is one binary JPEG (FF D8 … FF D9)', async function () {
      r = await rig();
      const v = await r.connect('/raw-video');
      const jpeg = fakeJpeg(1000);
      r.hub.publishFrame(jpeg, { seq: 1, width: 640, height: 480, timestamp: r.clock.now() });
      await v.until(() => v.got.binary.length === 1);
      const first = v.got.binary[0];
      assert.deepEqual([...first.subarray(0, 2)], [0xff, 0xd8]);
      assert.deepEqual([...first.subarray(-2)], [0xff, 0xd9]);
      assert.ok(first.equals(jpeg));
    });

    it('8. /metrics: one per detector heartbeat, all nine fields, numbers; nothing while no frames flow', async function () {
      r = await rig();
      // a heartbeat before any /metrics client is not folded into a later sample
      r.hub.publishMetrics({ loopAvgS: 0.5, loopMaxS: 0.9, loopMinS: 0.1, frames: 5, engine: 'sharp' });
      const m = await r.connect('/metrics');
      r.clock.advance(5000);
      await m.roundTrip(); // anything the server sent during advance() has arrived by now
      assert.equal(m.got.text.length, 0, 'no heartbeat, no metrics (no timer of its own)');
      r.clock.advance(1000);
      r.hub.publishMetrics({ loopAvgS: 0.004, loopMaxS: 0.007, loopMinS: 0.003, frames: 2, engine: 'sharp' });
      const msg = (await m.next()) as Record<string, number>;
      assert.deepEqual(Object.keys(msg).sort(), [...NINE].sort());
      for (const k of NINE) assert.equal(typeof msg[k], 'number', k);
      assert.equal(msg.timeStamp, r.clock.now() / 1000);
      assert.equal(msg.loopMaxS, 0.007);
      assert.equal(msg.loopMinS, 0.003);
      assert.ok(Math.abs(msg.loopAvgS - 0.004) < 1e-9);
      assert.ok(msg.sysMemPercent > 0 && msg.sysMemPercent < 100);
      assert.ok(msg.socketConnections >= 1, 'at least our listening socket');
      r.clock.advance(1000);
      r.hub.publishMetrics({ loopAvgS: 0.002, loopMaxS: 0.002, loopMinS: 0.002, frames: 1, engine: 'sharp' });
      const second = (await m.next(() => true, 1)) as Record<string, number>;
      assert.equal(second.loopMaxS, 0.002, 'the second sample covers only the second heartbeat');
      assert.equal(second.timeStamp, r.clock.now() / 1000);
    });

    it('9. /health is exactly "OK\\n"; /snapshot a JPEG with the reference headers; /config full JSON', async function () {
      r = await rig();
      const h = await fetch(`${r.http}/health`);
      assert.equal(h.status, 200);
      assert.equal(await h.text(), 'OK\n');
      const empty = await fetch(`${r.http}/snapshot`);
      assert.equal(empty.status, 200, 'before the first frame: 200 with an empty body');
      assert.equal((await empty.arrayBuffer()).byteLength, 0);
      const a = fakeJpeg(500, 1);
      const b = fakeJpeg(500, 2);
      r.hub.publishFrame(a, { seq: 1, width: 640, height: 480, timestamp: r.clock.now() });
      r.clock.advance(500);
      r.hub.publishFrame(b, { seq: 2, width: 640, height: 480, timestamp: r.clock.now() });
      const s = await fetch(`${r.http}/snapshot`);
      assert.equal(s.status, 200);
      assert.equal(s.headers.get('content-type'), 'image/jpeg');
      assert.equal(s.headers.get('cache-control'), 'no-cache');
      assert.equal(s.headers.get('access-control-allow-origin'), '*');
      assert.equal(s.headers.get('content-length'), '500');
      assert.equal(Number(s.headers.get('time')), (r.clock.now() - 500) / 1000);
      const body = Buffer.from(await s.arrayBuffer());
      assert.ok(body.equals(a), 'refreshed at most once a second: still the first frame');
      r.clock.advance(500);
      r.hub.publishFrame(b, { seq: 3, width: 640, height: 480, timestamp: r.clock.now() });
      assert.ok(Buffer.from(await (await fetch(`${r.http}/snapshot`)).arrayBuffer()).equals(b));
      const cfg = await fetch(`${r.http}/config`);
      assert.equal(cfg.status, 200);
      assert.equal(cfg.headers.get('content-type'), 'application/json');
      assert.equal(cfg.headers.get('access-control-allow-origin'), '*');
      assert.ok(cfg.headers.get('time'));
      const doc = (await cfg.json()) as Record<string, unknown>;
      for (const k of ['server', 'camera', 'processing', 'alerting', 'alerters']) assert.ok(k in doc, k);
      assert.deepEqual(doc.server, { host_name: '127.0.0.1', video_save_dir: '', websocket_port: r.port, webserver_port: r.port });
      assert.equal(doc.monitoring, null, 'the reference document has "monitoring": null');
      // The monitor page is the plain-HTTP answer on /
      const page = await fetch(`${r.http}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await page.text(), /<html/i);
      assert.equal((await fetch(`${r.http}/nope`)).status, 404);
    });
  });

  describe('error cases (§8.2) keep the socket open', function () {
    it('answers every malformed envelope with an error and keeps serving the same socket', async function () {
      r = await rig();
      const c = await r.connect('/');
      const expectations: Array<[string | object, (e: unknown) => boolean]> = [
        ['{not json', (e) => typeof e === 'string' && e.length > 0],
        ['', (e) => typeof e === 'string'],
        ['[1,2]', (e) => Array.isArray(e) && (e[0] as { loc: string[] }).loc[0] === '__root__'],
        ['42', (e) => Array.isArray(e) && (e[0] as { type: string }).type === 'type_error.dict'],
        ['"silence"', (e) => Array.isArray(e)],
        ['null', (e) => Array.isArray(e)],
        [{ data: { silenceFor: 1 } }, (e) => Array.isArray(e) && (e[0] as { loc: string[] }).loc[0] === 'command' && (e[0] as { type: string }).type === 'value_error.missing'],
        [{ command: 'explode', data: {} }, (e) => Array.isArray(e) && (e[0] as { type: string }).type === 'type_error.enum'],
        [{ command: 42, data: {} }, (e) => Array.isArray(e) && (e[0] as { type: string }).type === 'type_error.enum'],
        [{ command: 'silence' }, (e) => JSON.stringify(e) === JSON.stringify([{ loc: ['data'], msg: 'field required', type: 'value_error.missing' }])],
        [{ command: 'silence', data: [] }, (e) => Array.isArray(e) && (e[0] as { type: string }).type === 'type_error.dict'],
        [{ command: 'silence', data: { excluded: [] } }, (e) => JSON.stringify(e) === JSON.stringify([{ loc: ['data', 'silenceFor'], msg: 'field required', type: 'value_error.missing' }])],
        [{ command: 'silence', data: { silenceFor: 'abc' } }, (e) => JSON.stringify(e) === JSON.stringify([{ loc: ['data', 'silenceFor'], msg: 'value is not a valid float', type: 'type_error.float' }])],
        [{ command: 'test', data: { excluded: 'telegram' } }, (e) => Array.isArray(e) && (e[0] as { type: string }).type === 'type_error.list'],
        [{ command: 'test', data: { excluded: [{}] } }, (e) => Array.isArray(e) && (e[0] as { type: string }).type === 'type_error.str'],
        [{ command: 'config_update', data: { config: 5 } }, (e) => Array.isArray(e) && (e[0] as { type: string }).type === 'type_error.dict'],
        [{ command: 'config_update', data: { config: {} } }, (e) => Array.isArray(e) && (e as Array<{ loc: unknown[] }>).some((x) => JSON.stringify(x.loc) === '["data","config","processing"]')],
        [{ command: 'shutdown', data: { shutdownIn: 'soon' } }, (e) => Array.isArray(e) && (e[0] as { type: string }).type === 'type_error.integer'],
        [{ command: 'shutdown', data: {} }, (e) => Array.isArray(e) && (e[0] as { loc: string[] }).loc.join('.') === 'data.shutdownIn'],
      ];
      for (const [body, ok] of expectations) {
        const reply = await c.ask(body);
        assert.deepEqual(Object.keys(reply), ['error'], JSON.stringify(body));
        assert.ok(ok(reply.error), `${JSON.stringify(body)} → ${JSON.stringify(reply)}`);
        assert.equal(c.ws.readyState, c.ws.OPEN);
      }
      // A command-time failure is the handler's message string.
      r.alarm.state = 'off';
      const off = await c.ask({ command: 'silence', data: { silenceFor: 10 } });
      assert.match(String(off.error), /^Current state is State\.OFF/);
      assert.equal(r.alarm.commands.length, 1);
      assert.equal(r.api.stats().clients.root, 1);
    });

    it('/metrics and /raw-video refuse input with the reference message; unknown paths get "path not found" and close', async function () {
      r = await rig();
      const m = await r.connect('/metrics');
      const v = await r.connect('/raw-video');
      m.ws.send('{"command":"test","data":{"excluded":[]}}');
      v.ws.send('hello');
      await m.until(() => m.got.text.length === 1);
      await v.until(() => v.got.text.length === 1);
      assert.deepEqual(m.got.text[0], { error: 'This path does not support duplex communication' });
      assert.deepEqual(v.got.text[0], { error: 'This path does not support duplex communication' });
      assert.equal(m.ws.readyState, m.ws.OPEN);
      const u = await r.connect('/elsewhere');
      await u.until(() => u.closeCode !== undefined);
      assert.deepEqual(u.got.text, [{ error: 'path not found' }]);
    });

    it('replies reach only their sender; status reaches everyone; commands run in order', async function () {
      r = await rig();
      const a = await r.connect('/');
      const b = await r.connect('/');
      const replyA = await a.ask({ command: 'test', data: { excluded: ['siren'] } });
      assert.deepEqual(replyA, { status: 'OK' });
      const errA = await a.ask('{oops');
      assert.ok('error' in errA);
      // b has seen no reply: its first reply is its own
      assert.equal(b.got.text.filter((m) => !isStatus(m)).length, 0);
      assert.deepEqual(await b.ask({ command: 'silence', data: { silenceFor: 60 } }), { status: 'OK' });
      assert.equal(a.got.text.filter((m) => !isStatus(m)).length, 2, 'a did not get b’s reply');
      // both see the status broadcast
      r.clock.advance(1000);
      await a.next((m) => isStatus(m) && m.state === 'silenced');
      await b.next((m) => isStatus(m) && m.state === 'silenced');
      // in-order processing: a burst from one client answered in sending order
      const from = a.got.text.length;
      a.ws.send(JSON.stringify({ command: 'test', data: { excluded: ['x'] } }));
      a.ws.send('[]');
      a.ws.send(JSON.stringify({ command: 'silence', data: { silenceFor: 5 } }));
      await a.until(() => a.got.text.slice(from).filter((m) => !isStatus(m)).length === 3);
      const replies = a.got.text.slice(from).filter((m) => !isStatus(m)) as Array<Record<string, unknown>>;
      assert.deepEqual(replies[0], { status: 'OK' });
      assert.ok('error' in replies[1]);
      assert.deepEqual(replies[2], { status: 'OK' });
    });
  });

  describe('beyond the reference', function () {
    it('bearer token: missing or wrong token refused on every route; header or access_token query accepted', async function () {
      r = await rig({ token: 's3cret' });
      for (const p of ['/health', '/snapshot', '/config', '/']) {
        const none: Response = await fetch(`${r.http}${p}`);
        assert.equal(none.status, 401, p);
        assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
        assert.equal((await fetch(`${r.http}${p}`, { headers: { Authorization: 'Bearer nope' } })).status, 401, p);
        assert.equal((await fetch(`${r.http}${p}`, { headers: { Authorization: 'Bearer s3cret' } })).status, 200, p);
        assert.equal((await fetch(`${r.http}${p}?access_token=s3cret`)).status, 200, p);
      }
      for (const p of ['/', '/metrics', '/raw-video']) {
        await assert.rejects(r.connect(p), /HTTP 401/, p);
        await assert.rejects(r.connect(p, { Authorization: 'Bearer wrong' }), /HTTP 401/, p);
        await assert.rejects(r.connect(`${p}?access_token=wrong`), /HTTP 401/, p);
      }
      const ok = await r.connect('/', { Authorization: 'Bearer s3cret' });
      assert.deepEqual(await ok.ask({ command: 'test', data: { excluded: [] } }), { status: 'OK' });
      const q = await r.connect('/metrics?access_token=s3cret');
      assert.equal(q.ws.readyState, q.ws.OPEN);
      assert.equal(r.api.stats().refused, 17);
    });

    it('ping/pong: a client that stops answering is reaped after two ping periods; a live one stays', async function () {
      r = await rig();
      const live = await r.connect('/');
      const dead = await r.connect('/raw-video');
      dead.pause(); // never reads again, so never answers a ping
      let pings = 0;
      live.ws.on('ping', () => pings++);
      r.clock.advance(20000);
      await until(() => pings === 1);
      // ws writes the automatic pong before it emits 'ping'; a command's reply afterwards
      // proves the server has read that pong (frames are read in order), without a sleep
      assert.ok('error' in (await live.ask('not json')));
      r.clock.advance(20000);
      await until(() => r!.api.stats().clients.video === 0);
      assert.equal(r.api.stats().reaped, 1);
      assert.equal(r.api.stats().clients.root, 1);
      assert.equal(live.ws.readyState, live.ws.OPEN);
    });

    it('slow client: a /raw-video client that never reads drops frames (counted), another gets every frame, memory bounded', async function () {
      const cap = 512 * 1024;
      r = await rig({ maxBufferedBytes: cap });
      const good = await r.connect('/raw-video');
      const stalled = await r.connect('/raw-video');
      stalled.pause();
      const size = 256 * 1024;
      const frames = 100; // 25 MiB: far more than the loopback socket buffers absorb
      for (let i = 0; i < frames; i++) {
        const jpeg = fakeJpeg(size, i & 0xff);
        r.hub.publishFrame(jpeg, { seq: i, width: 640, height: 480, timestamp: r.clock.now() });
        await good.until(() => good.got.binary.length === i + 1);
        for (const b of r.api.buffered('video')) assert.ok(b <= cap + size, `buffered ${b} over cap + one frame`);
      }
      assert.equal(good.got.binary.length, frames, 'the healthy client got every frame');
      good.got.binary.forEach((b, i) => assert.equal(b[10], i & 0xff));
      const st = r.api.stats();
      assert.ok(st.dropped > 0, 'the stalled client dropped frames');
      assert.equal(st.clients.video, 2, 'the stalled client is not disconnected by the cap alone');
    });

    it('a request or upgrade whose target URL cannot be parsed is refused, not a crash', async function () {
      const clock = new FakeClock(0);
      const hub = new SystemHub({ clock });
      const api = new ApiServer({ hub, clock, staticDir: null });
      const port = await api.listen(0);
      const raw = (head: string): Promise<string> =>
        new Promise((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', () => s.write(head));
          let got = '';
          s.on('data', (d) => (got += d.toString('latin1')));
          s.on('close', () => resolve(got));
          s.on('error', reject);
        });
      try {
        const up = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
        assert.equal(await raw(`GET http://a:99999/ HTTP/1.1\r\nHost: x\r\n${up}\r\n`), '', 'upgrade: socket closed unanswered');
        assert.match(await raw('GET http://a:99999/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 404/);
        assert.equal(await (await fetch(`http://127.0.0.1:${port}/health`)).text(), 'OK\n', 'still serving');
      } finally {
        await api.close();
        hub.dispose();
      }
    });

    it('a reply that cannot be sent is reported as an error and later commands are still answered', async function () {
      const clock = new FakeClock(0);
      const hub = new SystemHub({ clock });
      let calls = 0;
      hub.setCommandHandler(() => {
        calls++;
        if (calls > 1) return { status: 'OK' };
        const loop: Record<string, unknown> = { status: 'OK' };
        loop.self = loop; // JSON.stringify throws on it
        return loop as never;
      });
      const api = new ApiServer({ hub, clock, staticDir: null });
      const errors: unknown[] = [];
      api.on('error', (e) => errors.push(e));
      const port = await api.listen(0);
      const c = new Client(`ws://127.0.0.1:${port}/`);
      try {
        await c.open();
        c.ws.send(JSON.stringify({ command: 'test', data: { excluded: [] } }));
        assert.deepEqual(await c.ask({ command: 'test', data: { excluded: [] } }), { status: 'OK' });
        assert.equal(calls, 2);
        assert.equal(errors.length, 1);
        assert.match(String(errors[0]), /circular/i);
      } finally {
        await c.close();
        await api.close();
        hub.dispose();
      }
    });

    it('mounted under a base path: only its own paths are taken', async function () {
      const clock = new FakeClock(0);
      const hub = new SystemHub({ clock });
      const api = new ApiServer({ hub, clock, basePath: '/vigil/', staticDir: null, metrics: new ProcessMetrics({ countSockets: async () => 3 }) });
      const port = await api.listen(0);
      try {
        assert.equal(await (await fetch(`http://127.0.0.1:${port}/vigil/health`)).text(), 'OK\n');
        assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 404);
        const c = new Client(`ws://127.0.0.1:${port}/vigil/metrics`);
        await c.open();
        hub.publishMetrics({ loopAvgS: 0.004, loopMaxS: 0.007, loopMinS: 0.003, frames: 2, engine: 'sharp' });
        const m = (await c.next()) as Record<string, number>;
        assert.equal(m.socketConnections, 3);
        assert.equal(m.sysCpuPercent, 0, 'first sample is 0 (psutil semantics)');
        await c.close();
      } finally {
        await api.close();
        hub.dispose();
      }
      assert.equal(clock.pending, 0);
    });
  });
});
