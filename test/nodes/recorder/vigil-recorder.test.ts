/**
 * vigil-recorder in Node-RED (node-red-node-test-helper) with real frames (generated clips)
 * and the real system, camera, alarm and API nodes, on a FakeClock injected through the
 * `vigilClock` runtime setting: a real alarm gives a clip ffprobe reads (both containers), a
 * test alarm gives none, two alarms 10 s apart never overwrite, retention by age and quota,
 * an unwritable folder is an error status while the alarm still fires, and vigil-api serves
 * the clips (`/clips`, a range request, `server.video_save_dir`).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { TelegramSim } from '../../../lib/alarm/sim';
import { FakeClock } from '../../../lib/common/clock';
import { clip, tempDir } from '../../helpers/clips';
import { ffprobe } from '../../helpers/ffprobe';
import { collect, eachTestOnFakeClock, freePort, helper, nodeModule, until, type RedModule } from '../../helpers/nodered';

const systemModule = nodeModule('vigil-system');
const cameraModule = nodeModule('vigil-camera');
const alarmModule = nodeModule('vigil-alarm');
const recorderModule = nodeModule('vigil-recorder');
const apiModule = nodeModule('vigil-api');
const ALL = [systemModule, cameraModule, alarmModule, recorderModule, apiModule];

interface ClipMsg {
  topic: string;
  payload: string;
  clip: { name: string; start: number; end: number; frames: number; bytes: number; durationS: number; alarmAt: number; format: string };
}
type AnyMsg = { topic?: string; payload: unknown };
type FlowNode = { id: string; type: string; wires?: string[][]; [k: string]: unknown };

const T0 = new Date(2026, 5, 1, 12, 0, 0).getTime();
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
const alwaysOn = { startTime: '00:00', endTime: '00:00', timezone: 'UTC' };


/** The arguments of every call of `node.<method>` so far (the helper spies on the prototype, shared by all nodes). */
function argsOf(node: Node, method: 'status' | 'error' | 'warn' | 'log'): unknown[][] {
  const all = (node as unknown as Record<string, { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> }>)[method].getCalls();
  return all.filter((c) => c.thisValue === node).map((c) => c.args);
}
/** The node's latest status. */
const lastStatus = (node: Node): { fill?: string; shape?: string; text?: string } => (argsOf(node, 'status').at(-1)?.[0] ?? {}) as { fill?: string; text?: string };

/**
 * Per test: a temporary folder, a FakeClock as the flow clock (settings.vigilClock) and the
 * test helper's server, all undone after the test; `use` gets the folder and clock.
 */
function perTest(prefix: string, use: (dir: string, clock: FakeClock) => void): void {
  let cleanup = (): void => undefined;
  eachTestOnFakeClock(T0, (clock) => {
    const t = tempDir(prefix);
    cleanup = t.cleanup;
    use(t.dir, clock);
  });
  afterEach(() => cleanup()); // after the flow is unloaded
}

describe('vigil-recorder node', function () {
  this.timeout(60_000);
  let clock: FakeClock;
  let dir: string;
  let frames: Buffer[];

  before(async function () {
    frames = await clip('moving', { width: 320, height: 240, frames: 60 });
  });
  perTest('vigil-recnode-', (d, c) => {
    dir = d;
    clock = c;
  });

  const load = (flow: FlowNode[], credentials?: Record<string, Record<string, string>>): Promise<unknown> => helper.load(ALL, flow as never, credentials as never);

  /** `seconds` of camera frames at 10 fps into node `cam`; `true` activity once a second into `al` when given. */
  async function run(seconds: number, cam: string, al?: string): Promise<void> {
    const camera = helper.getNode(cam);
    const alarm = al ? helper.getNode(al) : undefined;
    for (let i = 1; i <= seconds * 10; i++) {
      clock.advance(100);
      camera.receive({ payload: frames[i % frames.length] } as never);
      if (alarm && i % 10 === 0) alarm.receive({ payload: true } as never);
      await flush();
    }
  }

  const systemFlow = (rec: Record<string, unknown>, apiPort?: number): FlowNode[] => [
    { id: 'sys', type: 'vigil-system', name: 'Ward B' },
    { id: 'cam', type: 'vigil-camera', system: 'sys', source: 'input', fps: 0, wires: [[]] },
    { id: 'al', type: 'vigil-alarm', system: 'sys', ...alwaysOn, alertTimeS: 4, minMovementS: 1, alarmHysteresisS: 60, initialAlarmDurationM: 30, wires: [[], ['alerts']] },
    { id: 'alerts', type: 'helper' },
    { id: 'rec', type: 'vigil-recorder', system: 'sys', folder: dir, preSeconds: 3, postSeconds: 2, format: 'auto', maxAgeDays: 7, quotaMB: 2048, wires: [['out']], ...rec },
    { id: 'out', type: 'helper' },
    ...(apiPort ? [{ id: 'api', type: 'vigil-api', system: 'sys', listen: 'port', host: '127.0.0.1', port: apiPort }] : []),
  ];

  for (const format of ['mp4', 'avi'] as const) {
    it(`${format}: a real alarm of the system records pre + post seconds; ffprobe reads duration and frames; vigil-api serves it`, async function () {
      const apiPort = await freePort();
      await load(systemFlow({ format }, apiPort), { api: { token: 'tok' } });
      const rec = helper.getNode('rec');
      const out = collect<ClipMsg>('out');
      const alerts = collect<AnyMsg>('alerts');
      await until(() => lastStatus(rec).text === 'vigil-recorder.status.ready', 'ready status');
      // activity from t = 1 s; the alarm comes at alertTimeS − minMovementS = 3 s later
      await run(8, 'cam', 'al');
      await until(() => alerts.length === 1, 'the alarm');
      assert.deepEqual(alerts[0].payload, { message: 'Alarm', test: false, excluded: [] });
      await until(() => out.length === 1, 'a clip message');
      const m = out[0];
      assert.equal(m.topic, 'clip');
      assert.equal(m.payload, path.join(dir, m.clip.name));
      assert.match(m.clip.name, new RegExp(`^2026-06-01T12-00-0\\d_Ward-B\\.${format}$`));
      assert.deepEqual(Object.keys(m.clip).sort(), ['alarmAt', 'bytes', 'dropped', 'durationS', 'end', 'extendedBy', 'format', 'frames', 'name', 'start']);
      // pre 3 s + post 2 s
      assert.ok(Math.abs(m.clip.durationS - 5) <= 0.11, String(m.clip.durationS));
      assert.equal(m.clip.end - m.clip.alarmAt, 2000);
      const p = await ffprobe(m.payload);
      assert.ok(Math.abs(p.durationS - 5) < 1, `ffprobe duration ${p.durationS}`);
      assert.equal(p.frames, m.clip.frames);
      assert.equal(p.codec, format === 'mp4' ? 'h264' : 'mjpeg');
      assert.equal(m.clip.bytes, fs.statSync(m.payload).size);

      // vigil-api: the folder in /config, the list, and a range of the file
      const base = `http://127.0.0.1:${apiPort}`;
      const auth = { Authorization: 'Bearer tok' };
      const cfg = (await (await fetch(`${base}/config`, { headers: auth })).json()) as { server: { video_save_dir: string } };
      assert.equal(cfg.server.video_save_dir, dir);
      const list = (await (await fetch(`${base}/clips`, { headers: auth })).json()) as Array<{ name: string; bytes: number }>;
      assert.deepEqual(
        list.map((c) => [c.name, c.bytes]),
        [[m.clip.name, m.clip.bytes]],
      );
      const part = await fetch(`${base}/clips/${m.clip.name}`, { headers: { ...auth, Range: 'bytes=0-99' } });
      assert.equal(part.status, 206);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), fs.readFileSync(m.payload).subarray(0, 100));
      assert.equal((await fetch(`${base}/clips/..%2f..%2fetc%2fpasswd`, { headers: auth })).status, 400);
    });
  }

  it('vigil-api mounted on Node-RED\'s server serves the clips under its path, ranges and name checks included', async function () {
    const name = '2026-06-01T11-00-00_Ward-B.avi';
    fs.writeFileSync(path.join(dir, name), Buffer.from(Array.from({ length: 500 }, (_, i) => i % 256)));
    let captured: NodeAPI | undefined;
    const capture: RedModule = (RED) => {
      captured = RED;
      apiModule(RED);
    };
    await helper.load([systemModule, recorderModule, capture], [
      { id: 'sys', type: 'vigil-system', name: 'Ward B' },
      { id: 'rec', type: 'vigil-recorder', system: 'sys', folder: dir, format: 'avi', wires: [[]] },
      { id: 'api', type: 'vigil-api', system: 'sys', listen: 'node-red', path: '/cam' },
    ] as never);
    // RED.httpNode in the test helper is a bare express app: serve it ourselves.
    const app = http.createServer((captured as NodeAPI).httpNode as unknown as http.RequestListener);
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
    try {
      const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}/cam`;
      await until(() => lastStatus(helper.getNode('rec')).text === 'vigil-recorder.status.ready', 'ready');
      const list = (await (await fetch(`${base}/clips`)).json()) as Array<{ name: string }>;
      assert.deepEqual(
        list.map((c) => c.name),
        [name],
      );
      const part = await fetch(`${base}/clips/${name}`, { headers: { Range: 'bytes=-10' } });
      assert.equal(part.status, 206);
      assert.deepEqual([...Buffer.from(await part.arrayBuffer())], [...fs.readFileSync(path.join(dir, name)).subarray(490)]);
      assert.equal((await fetch(`${base}/clips/..%2f..%2fetc%2fpasswd`)).status, 400);
      assert.equal((await fetch(`${base}/clips/2026-06-01T11-00-01_Ward-B.avi`)).status, 404);
    } finally {
      await new Promise<void>((r) => app.close(() => r()));
    }
  });

  it('a test alarm never records (the API/flow test command, and a test alert on the wire)', async function () {
    await load([...systemFlow({ format: 'avi' }), { id: 'plain', type: 'vigil-recorder', folder: path.join(dir, 'plain'), preSeconds: 1, postSeconds: 1, format: 'avi', wires: [['out']] }]);
    const out = collect<ClipMsg>('out');
    const alerts = collect<AnyMsg>('alerts');
    await run(4, 'cam');
    helper.getNode('al').receive({ topic: 'command', payload: { command: 'test', data: { excluded: [] } } } as never);
    helper.getNode('plain').receive({ payload: { message: 'Test, Test', test: true, excluded: [] } } as never);
    await until(() => alerts.length === 1, 'the test alert');
    assert.equal((alerts[0].payload as { test: boolean }).test, true);
    await run(5, 'cam');
    await flush();
    assert.deepEqual(out, []);
    assert.deepEqual(fs.readdirSync(dir).filter((n) => !n.startsWith('.') && n !== 'plain'), []);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'plain')), []);
  });

  it('without a system: frames and "record" on the input; two alarms 10 s apart never overwrite', async function () {
    const flow = [
      { id: 'cam', type: 'helper', wires: [['rec']] },
      { id: 'rec', type: 'vigil-recorder', name: 'desk', folder: dir, preSeconds: 3, postSeconds: 10, format: 'avi', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await load(flow);
    const rec = helper.getNode('rec');
    const out = collect<ClipMsg>('out');
    await until(() => lastStatus(rec).text === 'vigil-recorder.status.ready', 'ready');
    const feed = async (s: number): Promise<void> => {
      for (let i = 0; i < s * 10; i++) {
        clock.advance(100);
        rec.receive({ payload: frames[i % frames.length] } as never);
        await flush();
      }
    };
    await feed(4);
    rec.receive({ payload: 'record' } as never);
    await flush();
    await feed(10);
    rec.receive({ payload: 'record' } as never);
    await flush();
    await feed(12);
    // done: every clip announced (no unfinished file left) and the recorder idle
    await until(() => out.length >= 1 && lastStatus(rec).fill === 'green' && fs.readdirSync(dir).every((n) => !n.endsWith('.part')) && out.length === fs.readdirSync(dir).length, 'clip(s) done');
    const names = out.map((m) => m.clip.name);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(fs.readdirSync(dir).sort(), [...names].sort());
    for (const m of out) {
      assert.match(m.clip.name, /_desk(_\d+)?\.avi$/);
      assert.equal((await ffprobe(m.payload)).frames, m.clip.frames);
    }
    // one extended clip: 3 s + 10 s + 10 s
    if (out.length === 1) assert.ok(Math.abs(out[0].clip.durationS - 23) < 0.2, String(out[0].clip.durationS));
    // input errors: not a JPEG, an unknown payload
    rec.receive({ payload: Buffer.from('not a jpeg') } as never);
    rec.receive({ payload: 42 } as never);
    await until(() => argsOf(rec, 'error').length >= 2, 'input errors');
    assert.match(String(argsOf(rec, 'error')[0][0]), /notJpeg/);
    assert.match(String(argsOf(rec, 'error')[1][0]), /badInput/);
  });

  it('retention by age and by quota deletes the oldest clips, and only clips', async function () {
    const day = 86_400_000;
    const make = (name: string, kb: number, mtime: number): void => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, Buffer.alloc(kb * 1024));
      fs.utimesSync(p, mtime / 1000, mtime / 1000);
    };
    make('2026-05-01T10-00-00_Ward-B.mp4', 10, T0 - 31 * day);
    make('2026-05-30T10-00-00_Ward-B.mp4', 300, T0 - 2 * day);
    make('2026-05-31T10-00-00_Ward-B.avi', 300, T0 - day);
    make('2026-06-01T10-00-00_Ward-B.mp4', 300, T0 - 3600_000);
    fs.writeFileSync(path.join(dir, 'readme.txt'), 'mine');
    const flow = [{ id: 'rec', type: 'vigil-recorder', folder: dir, format: 'avi', maxAgeDays: 7, quotaMB: 0.7, wires: [[]] }];
    await load(flow);
    const rec = helper.getNode('rec');
    await until(() => argsOf(rec, 'log').some((a) => /log.deleted/.test(String(a[0]))), 'retention log');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['2026-05-31T10-00-00_Ward-B.avi', '2026-06-01T10-00-00_Ward-B.mp4', 'readme.txt']);
    assert.ok(argsOf(rec, 'log').some((a) => String(a[0]) === 'vigil-recorder.log.avi'), 'the container is logged');
  });

  it('an unwritable folder: error status and log, while the alarm and its alerts go on', async function () {
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, 'x');
    await load(systemFlow({ folder: path.join(blocker, 'clips'), format: 'avi' }));
    const rec = helper.getNode('rec');
    const alerts = collect<AnyMsg>('alerts');
    const out = collect<ClipMsg>('out');
    await until(() => lastStatus(rec).fill === 'red', 'error status');
    assert.equal(lastStatus(rec).text, 'vigil-recorder.status.error');
    assert.match(String(argsOf(rec, 'error')[0][0]), /cannot be written.*ENOTDIR/);
    await run(8, 'cam', 'al');
    await until(() => alerts.length === 1, 'the alarm still fires');
    assert.equal((alerts[0].payload as { message: string }).message, 'Alarm');
    await until(() => argsOf(rec, 'error').length >= 2, 'the lost clip is reported');
    assert.match(String(argsOf(rec, 'error').at(-1)?.[0]), /not recorded/);
    assert.deepEqual(out, []);
    assert.equal(lastStatus(rec).fill, 'red');
  });

  it('refuses to start without a folder or with an unknown container', async function () {
    await load([
      { id: 'r1', type: 'vigil-recorder', folder: ' ', wires: [[]] },
      { id: 'r2', type: 'vigil-recorder', folder: dir, format: 'mkv', wires: [[]] },
    ]);
    assert.match(String(argsOf(helper.getNode('r1'), 'error')[0][0]), /errors.noFolder/);
    assert.match(String(argsOf(helper.getNode('r2'), 'error')[0][0]), /errors.badFormat/);
  });

  it('a second recorder on the same system warns and still records on its own folder', async function () {
    await load([...systemFlow({ format: 'avi' }), { id: 'rec2', type: 'vigil-recorder', system: 'sys', folder: path.join(dir, 'two'), format: 'avi', wires: [[]] }]);
    const warned = [...argsOf(helper.getNode('rec'), 'warn'), ...argsOf(helper.getNode('rec2'), 'warn')].map((a) => String(a[0]));
    assert.ok(warned.some((w) => /already has a recorder/.test(w)), warned.join('\n'));
  });
});

describe('vigil-recorder → vigil-telegram (sendVideo)', function () {
  this.timeout(60_000);
  const telegramModule = nodeModule('vigil-telegram');
  let server: http.Server;
  let base: string;
  const got: Array<{ url: string; type: string; body: Buffer }> = [];
  let dir: string;

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({ url: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":{"message_id":1}}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    got.length = 0;
  });
  perTest('vigil-tgclip-', (d) => {
    dir = d;
  });

  const tg = (extra: Record<string, unknown>): FlowNode[] => [
    { id: 'tg', type: 'vigil-telegram', chatIds: '111', title: 'Ward B', apiBase: base, wires: [['res']], ...extra },
    { id: 'res', type: 'helper' },
  ];
  const clipMsg = (name: string, bytes: number): { payload: string; clip: Record<string, unknown> } => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, Buffer.alloc(bytes, 7));
    return { payload: file, clip: { name, durationS: 12.6, bytes } };
  };

  it('sends a clip as a video to every chat when asked to', async function () {
    await helper.load([telegramModule], tg({ sendVideo: true }) as never, { tg: { apiKey: '1:x' } } as never);
    const res = collect<AnyMsg>('res');
    helper.getNode('tg').receive(clipMsg('2026-06-01T12-00-00_Ward-B.mp4', 5000) as never);
    await until(() => res.length === 1, 'result');
    assert.equal(got.length, 1);
    assert.match(got[0].url, /\/bot1:x\/sendVideo$/);
    assert.match(got[0].type, /multipart\/form-data/);
    const body = got[0].body.toString('latin1');
    for (const part of ['name="video"; filename="2026-06-01T12-00-00_Ward-B.mp4"', 'Content-Type: video/mp4', 'name="supports_streaming"', '<b>Ward B</b>\r\nvigil-telegram.clipCaption']) {
      assert.ok(body.includes(part), `multipart body has ${part}`);
    }
    assert.ok(got[0].body.includes(Buffer.alloc(5000, 7)));
    assert.deepEqual((res[0].payload as { ok: boolean; clip: string; sent: string[] }).sent, ['111']);
  });

  it('the demo\'s telegram-sim takes the video', async function () {
    const sim = new TelegramSim({ port: 0 });
    const port = await sim.start();
    try {
      await helper.load([telegramModule], tg({ sendVideo: true, apiBase: `http://127.0.0.1:${port}` }) as never, { tg: { apiKey: '1:x' } } as never);
      const res = collect<AnyMsg>('res');
      helper.getNode('tg').receive(clipMsg('2026-06-01T12-00-00_Ward-B.avi', 3000) as never);
      await until(() => res.length === 1, 'result');
      assert.equal((res[0].payload as { ok: boolean }).ok, true);
      const ev = sim.events.find((e) => e.kind === 'sendVideo');
      assert.equal(ev?.detail.chat_id, '111');
      assert.ok(Number(ev?.detail.video_bytes) > 3000);
    } finally {
      await sim.stop();
    }
  });

  it('skips with the reason: option off, larger than the cap; never reads a path the recorder did not name', async function () {
    await helper.load([telegramModule], tg({ sendVideo: false }) as never, { tg: { apiKey: '1:x' } } as never);
    const res = collect<AnyMsg>('res');
    helper.getNode('tg').receive(clipMsg('2026-06-01T12-00-00_Ward-B.mp4', 10) as never);
    await until(() => res.length === 1, 'skip result');
    assert.match(String((res[0].payload as { skipped: string }).skipped), /why.videoOff/);
    await helper.unload();
    await helper.load([telegramModule], tg({ sendVideo: true, videoMaxMB: 1 }) as never, { tg: { apiKey: '1:x' } } as never);
    const res2 = collect<AnyMsg>('res');
    helper.getNode('tg').receive(clipMsg('2026-06-01T12-00-01_Ward-B.mp4', 1024 * 1024 + 1) as never);
    await until(() => res2.length === 1, 'too big');
    assert.match(String((res2[0].payload as { skipped: string }).skipped), /why.tooBig/);
    assert.equal(got.length, 0);
    // a message naming another file is not a clip: its payload is just an alert's text, no file is read
    const tgNode = helper.getNode('tg');
    tgNode.receive({ payload: '/etc/passwd', clip: { name: 'passwd' } } as never);
    tgNode.receive({ payload: '/etc/2026-06-01T12-00-01_Ward-B.mp4', clip: { name: '2026-06-01T12-00-00_Ward-B.mp4' } } as never);
    await until(() => got.length === 2, 'sent as text');
    assert.deepEqual(
      got.map((g) => g.url.replace(/.*\//, '')),
      ['sendMessage', 'sendMessage'],
    );
  });
});
