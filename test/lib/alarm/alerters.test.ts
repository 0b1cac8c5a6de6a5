import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Server, utils } from 'ssh2';
import { FakeClock } from '../../../lib/common/clock';
import { RetryAborted, parseAlert, retry, skipReason } from '../../../lib/alarm/alerter';
import { TelegramClient, TelegramError, chatIdValue, formatText, isValidChatId, sendTelegramAlert } from '../../../lib/alarm/telegram';
import { fingerprintMatches, normalizePrivateKey, runSshCommand, sha256Fingerprint } from '../../../lib/alarm/siren';
import { ed25519KeyPair } from '../../../lib/alarm/sim';
import { until } from '../../helpers/wait';

describe('lib/alarm/alerter', () => {
  it('skips per §6.2: tests need testGroup and not excluded; disabled never runs', () => {
    const a = { name: 'telegram', enabled: true, testGroup: true };
    assert.equal(skipReason({ test: false, excluded: [] }, a), undefined);
    assert.equal(skipReason({ test: true, excluded: [] }, a), undefined);
    assert.equal(skipReason({ test: true, excluded: ['telegram'] }, a), 'excluded');
    assert.equal(skipReason({ test: false, excluded: ['telegram'] }, a), undefined, 'exclusions are for tests only');
    assert.equal(skipReason({ test: true, excluded: [] }, { ...a, testGroup: false }), 'not-test-group');
    assert.equal(skipReason({ test: false, excluded: [] }, { ...a, testGroup: false }), undefined);
    assert.equal(skipReason({ test: false, excluded: [] }, { ...a, enabled: false }), 'disabled');
    assert.deepEqual(parseAlert({ test: true }), { message: 'Test, Test', test: true, excluded: [] });
    assert.deepEqual(parseAlert('Fire'), { message: 'Fire', test: false, excluded: [] });
    assert.equal(parseAlert(42), undefined);
  });

  it('retries 3 times, 3 s then 6 s apart, on the injected clock', async () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    const delays: number[] = [];
    const p = retry(
      async () => {
        at.push(clock.now());
        throw new Error('nope');
      },
      { clock, onRetry: (_e, _n, d) => delays.push(d) },
    );
    await until(() => clock.pending === 1, 'first wait');
    clock.advance(3000);
    await until(() => at.length === 2 && clock.pending === 1, 'second wait');
    clock.advance(6000);
    await assert.rejects(p, /nope/);
    assert.deepEqual(at, [0, 3000, 9000]);
    assert.deepEqual(delays, [3000, 6000]);
  });

  it('a retry wait is cancelled by the signal', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const p = retry(() => Promise.reject(new Error('x')), { clock, signal: ac.signal });
    await until(() => clock.pending === 1, 'wait');
    ac.abort();
    await assert.rejects(p, RetryAborted);
    assert.equal(clock.pending, 0);
  });

  it('a try failing because of the cancel is not retried (no retry log on close)', async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const retried: number[] = [];
    const p = retry(
      () =>
        new Promise((_resolve, reject) => {
          ac.signal.addEventListener('abort', () => reject(new Error('cancelled by the transport')));
        }),
      { clock, signal: ac.signal, onRetry: (_e, n) => retried.push(n) },
    );
    ac.abort();
    await assert.rejects(p, /cancelled by the transport/);
    assert.deepEqual(retried, []);
    assert.equal(clock.pending, 0);
  });
});

describe('lib/alarm/telegram', () => {
  let server: http.Server;
  let base: string;
  const requests: Array<{ url: string; type: string; body: string }> = [];
  /** chat id → how many more times to fail with HTTP 500 */
  const failures = new Map<string, number>();

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('latin1');
        requests.push({ url: req.url ?? '', type: String(req.headers['content-type']), body });
        const m = /"chat_id":("?[^,"]+"?)/.exec(body) ?? /name="chat_id"\r\n\r\n([^\r]+)/.exec(body);
        const chat = m ? m[1].replace(/"/g, '') : '';
        if (chat === '@hang') return; // never answers (the client's timeout test)
        const left = failures.get(chat) ?? 0;
        if (left > 0) {
          failures.set(chat, left - 1);
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error_code: 500, description: 'Internal Server Error' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result: { message_id: 1 } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => (server ? (server.closeAllConnections(), server.close(() => r())) : r())));
  beforeEach(() => {
    requests.length = 0;
    failures.clear();
  });

  it('formats like the reference and maps chat ids', () => {
    assert.equal(formatText('Seizure App', 'Alarm'), '<b>Seizure App</b>\r\nAlarm');
    assert.equal(formatText('a<b>&', 'x'), '<b>a&lt;b&gt;&amp;</b>\r\nx');
    assert.equal(chatIdValue('11111111'), 11111111);
    assert.equal(chatIdValue('-100123'), -100123);
    assert.equal(chatIdValue('mychannel'), '@mychannel');
    assert.equal(chatIdValue('@mychannel'), '@mychannel');
    assert.equal(isValidChatId('123'), true);
    assert.equal(isValidChatId('@chan_name'), true);
    assert.equal(isValidChatId('a b'), false);
  });

  it('sends sendMessage to every chat with the reference body', async () => {
    const client = new TelegramClient({ token: '123:ABC', apiBase: base });
    const r = await sendTelegramAlert(client, { chats: ['111', '@chan'], title: 'Seizure App', message: 'Alarm' });
    assert.deepEqual(r, { sent: ['111', '@chan'], failed: [], tries: 1 });
    assert.equal(requests.length, 2);
    assert.equal(requests[0].url, '/bot123:ABC/sendMessage');
    assert.match(requests[0].type, /application\/json/);
    assert.deepEqual(JSON.parse(requests[0].body), {
      chat_id: 111,
      text: '<b>Seizure App</b>\r\nAlarm',
      parse_mode: 'HTML',
      disable_notification: false,
      disable_web_page_preview: true,
    });
    assert.equal(JSON.parse(requests[1].body).chat_id, '@chan');
  });

  it('retries on 500 after 3 s and 6 s, resending only to the chats that failed', async () => {
    const clock = new FakeClock(0);
    failures.set('222', 2);
    const client = new TelegramClient({ token: 't', apiBase: base });
    const p = sendTelegramAlert(client, { chats: ['111', '222'], title: 'T', message: 'Alarm', clock });
    await until(() => clock.pending === 1 && requests.length === 2, 'first round');
    clock.advance(3000);
    await until(() => clock.pending === 1 && requests.length === 3, 'second round');
    clock.advance(6000);
    const r = await p;
    assert.deepEqual(r.sent, ['111', '222']);
    assert.equal(r.tries, 3);
    assert.deepEqual(requests.map((q) => JSON.parse(q.body).chat_id), [111, 222, 222, 222]);
  });

  it('reports the chats still failing after three tries', async () => {
    const clock = new FakeClock(0);
    failures.set('222', 5);
    const client = new TelegramClient({ token: 't', apiBase: base });
    const p = sendTelegramAlert(client, { chats: ['111', '222'], title: 'T', message: 'Alarm', clock });
    await until(() => clock.pending === 1, 'wait 1');
    clock.advance(3000);
    await until(() => clock.pending === 1 && requests.length === 3, 'wait 2');
    clock.advance(6000);
    const r = await p;
    assert.deepEqual(r.sent, ['111']);
    assert.equal(r.failed.length, 1);
    assert.equal(r.failed[0].chat, '222');
    assert.match(r.failed[0].error, /HTTP 500 Internal Server Error/);
  });

  it('gives up on a request with no answer after the timeout, timed on the injected clock', async () => {
    const clock = new FakeClock(0);
    const client = new TelegramClient({ token: 't', apiBase: base, clock, timeoutMs: 15000 });
    const p = client.sendMessage('@hang', 'x');
    await until(() => requests.length === 1 && clock.pending === 1, 'request in flight');
    let settled = false;
    void p.catch(() => undefined).finally(() => (settled = true));
    clock.advance(14999);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'still waiting before the timeout');
    clock.advance(1);
    await assert.rejects(p, (err: Error) => err instanceof TelegramError && /sendMessage: no answer within 15 s/.test(err.message));
    assert.equal(clock.pending, 0, 'the timer is cleared');
  });

  it('clears the timeout timer when the request is answered', async () => {
    const clock = new FakeClock(0);
    const client = new TelegramClient({ token: 't', apiBase: base, clock });
    await client.sendMessage('111', 'x');
    assert.equal(clock.pending, 0);
  });

  it('sendPhoto uploads the JPEG as multipart with the caption', async () => {
    const client = new TelegramClient({ token: 't', apiBase: base });
    const jpeg = Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
    const r = await sendTelegramAlert(client, { chats: ['5'], title: 'Cam', message: 'Alarm', photo: jpeg });
    assert.deepEqual(r.sent, ['5']);
    assert.equal(requests[0].url, '/bott/sendPhoto');
    assert.match(requests[0].type, /multipart\/form-data/);
    assert.match(requests[0].body, /name="caption"\r\n\r\n<b>Cam<\/b>\r\nAlarm/);
    assert.match(requests[0].body, /filename="snapshot.jpg"/);
    assert.ok(requests[0].body.includes(jpeg.toString('latin1')));
  });
});

describe('lib/alarm/siren (ssh2 server on loopback)', () => {
  let server: Server;
  let port: number;
  let fingerprint: string;
  const commands: string[] = [];
  let exitCode = 0;
  const key = ed25519KeyPair();

  before(async () => {
    fingerprint = key.fingerprint;
    server = new Server({ hostKeys: [key.private] }, (client) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        if (ctx.method === 'password' && ctx.username === 'pi' && ctx.password === 'pw') ctx.accept();
        else ctx.reject(['password']);
      });
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acc, _rej, info) => {
          commands.push(info.command);
          const stream = acc();
          stream.exit(exitCode);
          stream.end();
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('runs the command with password auth and a pinned fingerprint', async () => {
    const r = await runSshCommand({ host: '127.0.0.1', port, username: 'pi', password: 'pw', command: 'aplay siren.wav -d 21', fingerprint });
    assert.equal(r.code, 0);
    assert.equal(r.fingerprint, fingerprint);
    assert.equal(commands.at(-1), 'aplay siren.wav -d 21');
  });

  it('refuses a host key that does not match the pin', async () => {
    const n = commands.length;
    await assert.rejects(
      runSshCommand({ host: '127.0.0.1', port, username: 'pi', password: 'pw', command: 'x', fingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
      (e: Error & { code?: string }) => e.code === 'hostkey' && /does not match/.test(e.message),
    );
    assert.equal(commands.length, n, 'nothing ran');
  });

  it('fails on a wrong password and on a non-zero exit', async () => {
    await assert.rejects(runSshCommand({ host: '127.0.0.1', port, username: 'pi', password: 'bad', command: 'x' }), /authentication/i);
    exitCode = 3;
    await assert.rejects(runSshCommand({ host: '127.0.0.1', port, username: 'pi', password: 'pw', command: 'x' }), /exited with status 3/);
    exitCode = 0;
  });

  it('times the whole run on the injected clock (a server that never answers)', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const clock = new FakeClock(0);
      const p = runSshCommand({ host: '127.0.0.1', port: (silent.address() as AddressInfo).port, username: 'pi', password: 'pw', command: 'x', timeoutMs: 5000, clock });
      let settled = false;
      p.then(
        () => (settled = true),
        () => (settled = true),
      );
      await until(() => sockets.size === 1, 'connection');
      assert.equal(clock.pending, 1);
      clock.advance(4999);
      await new Promise((r) => setImmediate(r));
      assert.equal(settled, false, 'not before 5 s');
      clock.advance(1);
      await assert.rejects(p, (e: Error & { code?: string }) => e.code === 'timeout' && /timed out after 5 s/.test(e.message));
      assert.equal(clock.pending, 0);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('puts back the newlines of a private key pasted into a one-line field', () => {
    const key = ed25519KeyPair().private;
    const flat = key.replace(/\n/g, '');
    const spaced = key.replace(/\n/g, ' ');
    for (const k of [key, flat, spaced]) {
      const parsed = utils.parseKey(normalizePrivateKey(k));
      assert.ok(!(parsed instanceof Error), String(parsed));
    }
  });

  it('matches fingerprints in several spellings', () => {
    const raw = Buffer.from('hello');
    const fp = sha256Fingerprint(raw);
    assert.equal(fingerprintMatches(fp, raw), true);
    assert.equal(fingerprintMatches(fp.slice(7) + '=', raw), true);
    assert.equal(fingerprintMatches('', raw), true);
    assert.equal(fingerprintMatches('SHA256:xyz', raw), false);
  });
});
