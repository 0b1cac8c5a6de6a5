/**
 * vigil-telegram against a local HTTP server standing in for the Bot API, and vigil-siren
 * against a local ssh2 server with a generated host key; retries on a FakeClock.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, utils } from 'ssh2';
import { FakeClock } from '../../../lib/common/clock';
import { ed25519KeyPair } from '../../../lib/alarm/sim';
import { collect, coreNode, eachTestOnFakeClock, helper, nodeModule, until } from '../../helpers/nodered';

const telegramModule = nodeModule('vigil-telegram');
const sirenModule = nodeModule('vigil-siren');
// Node-RED's core Catch node, from the Node-RED under test (4.x, or 5.x for test:nr5)
const catchModule = coreNode('core/common/25-catch.js');

type Msg = { payload: Record<string, unknown>; error?: { message: string } };

describe('vigil-telegram node (local Bot API stand-in)', function () {
  let server: http.Server;
  let base: string;
  const reqs: Array<{ url: string; body: Record<string, unknown> }> = [];
  let failFor: Record<string, number> = {};
  let clock: FakeClock;

  before(async () => {
    server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        const body = JSON.parse(b || '{}') as Record<string, unknown>;
        reqs.push({ url: req.url ?? '', body });
        const chat = String(body.chat_id);
        if ((failFor[chat] ?? 0) > 0) {
          failFor[chat]--;
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"ok":false,"error_code":500,"description":"Internal Server Error"}');
        } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":{"message_id":7}}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));
  beforeEach(() => {
    reqs.length = 0;
    failFor = {};
  });
  eachTestOnFakeClock(0, (c) => (clock = c));

  const flow = (extra: Record<string, unknown> = {}): never =>
    [
      { id: 'tab', type: 'tab' },
      { id: 'tg', z: 'tab', type: 'vigil-telegram', alerterName: 'telegram', enabled: true, testGroup: true, chatIds: '111, 222, mychannel', title: 'Seizure App', apiBase: base, ...extra, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ] as never;

  it('sends sendMessage to every chat with the reference body', async () => {
    await helper.load([telegramModule, catchModule], flow(), { tg: { apiKey: '123:tok' } });
    const out = collect<Msg>('out');
    helper.getNode('tg').receive({ payload: { message: 'Alarm', test: false, excluded: [] } } as never);
    await until(() => out.length === 1, 'result');
    assert.deepEqual(
      reqs.map((r) => r.url),
      ['/bot123:tok/sendMessage', '/bot123:tok/sendMessage', '/bot123:tok/sendMessage'],
    );
    assert.deepEqual(reqs[0].body, { chat_id: 111, text: '<b>Seizure App</b>\r\nAlarm', parse_mode: 'HTML', disable_notification: false, disable_web_page_preview: true });
    assert.deepEqual(reqs.map((r) => r.body.chat_id).sort(), [111, 222, '@mychannel'].sort());
    assert.equal(out[0].payload.ok, true);
    assert.deepEqual(out[0].payload.sent, ['111', '222', 'mychannel']);
  });

  it('retries on HTTP 500 after 3 s and 6 s, never resending to chats that succeeded; the third failure goes to Catch', async () => {
    await helper.load([telegramModule, catchModule], flow({ chatIds: '111, 222' }), { tg: { apiKey: 't' } });
    const out = collect<Msg>('out');
    const caught = collect<Msg>('caught');
    failFor = { '222': 3 };
    helper.getNode('tg').receive({ payload: { message: 'Alarm', test: false, excluded: [] } } as never);
    await until(() => reqs.length === 2 && clock.dueIn().join() === '3000', 'first try'); // each request's own timeout is on the clock too
    clock.advance(2999);
    assert.equal(reqs.length, 2);
    clock.advance(1);
    await until(() => reqs.length === 3 && clock.dueIn().join() === '6000', 'second try');
    clock.advance(6000);
    await until(() => caught.length === 1, 'caught');
    assert.deepEqual(
      reqs.map((r) => r.body.chat_id),
      [111, 222, 222, 222],
    );
    assert.equal(out[0].payload.ok, false);
    assert.deepEqual(out[0].payload.sent, ['111']);
    assert.match(caught[0].error?.message ?? '', /vigil-telegram.errors.failed/);
  });

  it('recovers when a retry succeeds', async () => {
    await helper.load([telegramModule, catchModule], flow({ chatIds: '111' }), { tg: { apiKey: 't' } });
    const out = collect<Msg>('out');
    failFor = { '111': 1 };
    helper.getNode('tg').receive({ payload: 'Alarm' } as never);
    await until(() => clock.dueIn().join() === '3000', 'waiting to retry');
    clock.advance(3000);
    await until(() => out.length === 1, 'result');
    assert.equal(out[0].payload.ok, true);
    assert.equal(out[0].payload.tries, 2);
  });

  it('skips tests when not in the test group or excluded, and everything when disabled', async () => {
    await helper.load([telegramModule, catchModule], flow({ testGroup: false }), { tg: { apiKey: 't' } });
    const tg = helper.getNode('tg');
    tg.receive({ payload: { message: 'Test, Test', test: true, excluded: [] } } as never);
    const skipped = (why: string): boolean =>
      (helper.getNode('tg').status as unknown as { calledWith(a: unknown): boolean }).calledWith({ fill: 'grey', shape: 'ring', text: `vigil-telegram.status.skip.${why}` });
    await until(() => skipped('not-test-group'), 'skip status');
    assert.equal(reqs.length, 0);
    await helper.unload();
    await helper.load([telegramModule, catchModule], flow({ enabled: false }), { tg: { apiKey: 't' } });
    helper.getNode('tg').receive({ payload: { message: 'Alarm', test: false, excluded: [] } } as never);
    helper.getNode('tg').receive({ payload: { message: 'Test, Test', test: true, excluded: ['telegram'] } } as never);
    await until(() => skipped('disabled') && skipped('excluded'), 'both skipped');
    await new Promise((r) => setImmediate(r));
    assert.equal(reqs.length, 0);
  });

  it('without a token it warns at deploy (no error) and fails alerts with a clear reason', async () => {
    await helper.load([telegramModule, catchModule], flow(), {});
    const tg = helper.getNode('tg');
    assert.match(String((tg.warn as unknown as { args: unknown[][] }).args[0][0]), /noApiKey/);
    const caught = collect<Msg>('caught');
    tg.receive({ payload: 'Alarm' } as never);
    await until(() => caught.length === 1, 'caught');
    assert.equal(reqs.length, 0);
  });
});

describe('vigil-siren node (local ssh2 server)', function () {
  let server: Server;
  let port: number;
  let fingerprint: string;
  const commands: string[] = [];
  let failures = 0;
  let clock: FakeClock;
  const hostKey = ed25519KeyPair();
  const clientKey = ed25519KeyPair();

  before(async () => {
    fingerprint = hostKey.fingerprint;
    const allowed = utils.parseKey(clientKey.public);
    if (allowed instanceof Error) throw allowed;
    server = new Server({ hostKeys: [hostKey.private] }, (client) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        if (ctx.method === 'password' && ctx.username === 'pi' && ctx.password === 'raspberry') return ctx.accept();
        if (ctx.method === 'publickey' && ctx.username === 'pi' && ctx.key.algo === allowed.type && ctx.key.data.equals(allowed.getPublicSSH())) {
          if (!ctx.signature) return ctx.accept();
          if (ctx.blob && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
        }
        ctx.reject(['password', 'publickey']);
      });
      client.on('session', (accept) => {
        accept().on('exec', (acc, _rej, info) => {
          commands.push(info.command);
          const stream = acc();
          stream.exit(failures > 0 ? (failures--, 1) : 0);
          stream.end();
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));
  beforeEach(() => {
    commands.length = 0;
    failures = 0;
  });
  eachTestOnFakeClock(0, (c) => (clock = c));

  const flow = (extra: Record<string, unknown> = {}): never =>
    [
      { id: 'tab', type: 'tab' },
      { id: 'sr', z: 'tab', type: 'vigil-siren', alerterName: 'siren', enabled: true, testGroup: true, host: '127.0.0.1', port, username: 'pi', command: 'aplay siren.wav -d 21', timeout: 10, ...extra, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'c', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ] as never;

  /**
   * Counts the node's "retrying" statuses. A retry wait starts right after each, and the
   * SSH run's own timeout is also a timer on the fake clock, so `clock.pending === 1`
   * alone does not tell a retry wait from a try in progress.
   */
  const retries = (id: string): (() => number) => {
    const n = helper.getNode(id) as unknown as { status: (s: { text?: string }) => void };
    const orig = n.status.bind(n);
    let count = 0;
    n.status = (s) => {
      if (/retrying/.test(s.text ?? '')) count++;
      orig(s);
    };
    return () => count;
  };

  it('runs the command with a password and a pinned fingerprint', async () => {
    await helper.load([sirenModule, catchModule], flow({ fingerprint }), { sr: { password: 'raspberry' } });
    const out = collect<Msg>('out');
    helper.getNode('sr').receive({ payload: { message: 'Alarm', test: false, excluded: [] } } as never);
    await until(() => out.length === 1, 'result');
    assert.deepEqual(commands, ['aplay siren.wav -d 21']);
    assert.equal(out[0].payload.ok, true);
    assert.equal(out[0].payload.fingerprint, fingerprint);
  });

  it('authenticates with a private key', async () => {
    await helper.load([sirenModule, catchModule], flow({ command: 'echo hi' }), { sr: { privateKey: clientKey.private } });
    const out = collect<Msg>('out');
    helper.getNode('sr').receive({ payload: 'Alarm' } as never);
    await until(() => out.length === 1, 'result');
    assert.equal(out[0].payload.ok, true);
    assert.deepEqual(commands, ['echo hi']);
  });

  it('refuses a host key that does not match the pin, three times, then Catch', async () => {
    await helper.load([sirenModule, catchModule], flow({ fingerprint: 'SHA256:' + 'A'.repeat(43) }), { sr: { password: 'raspberry' } });
    const caught = collect<Msg>('caught');
    const retried = retries('sr');
    helper.getNode('sr').receive({ payload: 'Alarm' } as never);
    await until(() => retried() === 1 && clock.pending === 1, 'retry 1');
    clock.advance(3000);
    await until(() => retried() === 2 && clock.pending === 1, 'retry 2');
    clock.advance(6000);
    await until(() => caught.length === 1, 'caught');
    assert.deepEqual(commands, [], 'nothing ran');
    assert.match(caught[0].error?.message ?? '', /vigil-siren.errors.failed/);
  });

  it('retries a failing command (3 s, 6 s) and succeeds on the third try', async () => {
    failures = 2;
    await helper.load([sirenModule, catchModule], flow(), { sr: { password: 'raspberry' } });
    const out = collect<Msg>('out');
    const retried = retries('sr');
    helper.getNode('sr').receive({ payload: 'Alarm' } as never);
    await until(() => commands.length === 1 && retried() === 1 && clock.pending === 1, 'try 1');
    clock.advance(3000);
    await until(() => commands.length === 2 && retried() === 2 && clock.pending === 1, 'try 2');
    clock.advance(6000);
    await until(() => out.length === 1, 'result');
    assert.equal(out[0].payload.ok, true);
    assert.equal(out[0].payload.tries, 3);
    assert.equal(commands.length, 3);
  });
});
