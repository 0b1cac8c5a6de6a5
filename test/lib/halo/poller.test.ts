import assert from 'node:assert/strict';
import net from 'node:net';
import { FakeClock, systemClock } from '../../../lib/common/clock';
import { HaloHttpClient, HaloHttpError } from '../../../lib/halo/client';
import { digestResponse, parseChallenges, pickDigest } from '../../../lib/common/digest';
import { diffSnapshots, makeSnapshot, normaliseEventState, normaliseThresholds } from '../../../lib/halo/eventstate';
import type { HaloOutMessage } from '../../../lib/halo/input';
import { HaloPoller, type PollOutput } from '../../../lib/halo/poller';
import { HaloSim } from '../../../lib/halo/sim';
import { until } from '../../helpers/wait';

const EVENTS = '/api/config/gstate/event_state';
const THRESHOLDS = '/api/config/gstate/config/eventgen/events';

describe('halo digest (RFC 7616)', () => {
  it('computes the RFC 7616 §3.9.1 example responses (MD5 and SHA-256)', () => {
    const base = {
      realm: 'http-auth@example.org',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      qop: 'auth' as const,
      nc: 1,
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      method: 'GET',
      uri: '/dir/index.html',
      username: 'Mufasa',
      password: 'Circle of Life',
    };
    assert.equal(digestResponse({ ...base, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
    assert.equal(digestResponse({ ...base, algorithm: 'SHA-256' }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('parses several challenges and prefers SHA-256', () => {
    const cs = parseChallenges(['Digest realm="a, b", qop="auth", algorithm=MD5, nonce="n1"', 'Digest realm="a, b", qop="auth,auth-int", algorithm=SHA-256, nonce="n1", Basic realm="x"']);
    assert.deepEqual(
      cs.map((c) => c.scheme),
      ['digest', 'digest', 'basic'],
    );
    assert.equal(cs[0].params.realm, 'a, b');
    assert.equal(pickDigest(cs)?.algorithm, 'SHA-256');
  });
});

describe('halo event state', () => {
  it('normalises event_state (log_set, then msg_set, then above) and skips $ keys', () => {
    const s = normaliseEventState({ $info$: {}, $clock$: 1, Vape: { val: 7, rawval: 7.2, log_set: 1 }, CO: { val: '0.1', msg_set: 0, above: true }, Light: { val: 500, above: true } });
    assert.deepEqual(s, { Vape: { value: 7, raw: 7.2, active: true }, CO: { value: 0.1, raw: 0.1, active: false }, Light: { value: 500, raw: 500, active: true } });
    assert.throws(() => normaliseEventState([1, 2]));
  });

  it('diffs snapshots into changes and set/reset edges', () => {
    const th = normaliseThresholds([{ id: 'Vape', threshold: 5, operator: 'gte' }]);
    const a = makeSnapshot('H', 1, { Vape: { value: 1, raw: 1, active: false }, CO: { value: 0, raw: 0, active: true } }, th);
    const first = diffSnapshots(undefined, a);
    assert.deepEqual(
      first.map((c) => [c.event, c.transition]),
      [
        ['Vape', undefined],
        ['CO', 'set'],
      ],
    );
    const b = makeSnapshot('H', 2, { Vape: { value: 9, raw: 9, active: true }, CO: { value: 0, raw: 0, active: false } }, th);
    const d = diffSnapshots(a, b);
    assert.deepEqual(
      d.map((c) => [c.event, c.transition, c.previous?.value]),
      [
        ['Vape', 'set', 1],
        ['CO', 'reset', 0],
      ],
    );
    assert.equal(b.events.Vape.threshold, 5);
    assert.deepEqual(diffSnapshots(b, b), []);
  });
});

describe('halo Event Data URL client and poller against halo-sim', () => {
  let sim: HaloSim;
  const clients: HaloHttpClient[] = [];
  const pollers: HaloPoller[] = [];

  async function startSim(auth: 'none' | 'basic' | 'digest' | 'any', algorithms?: Array<'MD5' | 'SHA-256'>): Promise<void> {
    sim = new HaloSim({ device: { name: 'Sim-1' }, serve: { httpPort: 0, httpsPort: 0, auth, username: 'admin', password: 'halo pass', algorithms } });
    await sim.start();
  }

  function client(opts: Partial<ConstructorParameters<typeof HaloHttpClient>[0]> = {}): HaloHttpClient {
    const c = new HaloHttpClient({ host: '127.0.0.1', port: sim.ports.http, https: false, username: 'admin', password: 'halo pass', clock: systemClock, minSpacingMs: 0, ...opts });
    clients.push(c);
    return c;
  }

  afterEach(async () => {
    for (const p of pollers.splice(0)) p.close();
    for (const c of clients.splice(0)) c.close();
    await sim?.close();
  });

  for (const [auth, algs] of [
    ['basic', undefined],
    ['digest', ['MD5']],
    ['digest', ['SHA-256']],
    ['digest', ['SHA-256', 'MD5']],
  ] as const) {
    it(`fetches event_state with ${auth}${algs ? ` (${algs.join('+')})` : ''} auth (mode auto and explicit)`, async () => {
      await startSim(auth, algs ? [...algs] : undefined);
      sim.state.set('Vape', 8);
      for (const mode of ['auto', auth] as const) {
        const c = client({ auth: mode });
        const json = (await c.getJson(EVENTS)) as Record<string, { val: number; log_set: number }>;
        assert.equal(json.Vape.log_set, 1);
        const again = await c.getJson(EVENTS);
        assert.ok(again);
      }
      // a digest session is reused: 1 handshake + 1 request per later call
      const c = client({ auth: 'digest' });
      if (auth === 'digest') {
        await c.getJson(EVENTS);
        await c.getJson(EVENTS);
        await c.getJson(EVENTS);
        assert.equal(c.requestCount, 4);
      }
    });
  }

  it('renews an expired Digest nonce (stale=true) without failing the request', async () => {
    const simClock = new FakeClock(Date.now());
    sim = new HaloSim({ clock: simClock, serve: { httpPort: 0, auth: 'digest', username: 'admin', password: 'halo pass' } });
    await sim.start();
    const c = client({ auth: 'digest' });
    await c.getJson(EVENTS);
    assert.equal(c.requestCount, 2, 'challenge + answer');
    await c.getJson(EVENTS);
    assert.equal(c.requestCount, 3, 'the nonce is reused');
    simClock.advance(301_000); // past the simulator's 300 s nonce lifetime
    await c.getJson(EVENTS);
    assert.equal(c.requestCount, 5, 'stale answer, then a fresh nonce');
  });

  it('refuses wrong credentials with a clear auth error', async () => {
    await startSim('digest');
    await assert.rejects(client({ password: 'nope' }).getJson(EVENTS), (e: HaloHttpError) => e.code === 'auth' && e.status === 401);
    await assert.rejects(client({ username: '', password: '' }).getJson(EVENTS), (e: HaloHttpError) => e.code === 'auth' && /no credentials/.test(e.message));
  });

  it('HTTPS with a self-signed certificate: accepted when rejectUnauthorized is false, TLS error otherwise', async () => {
    await startSim('digest');
    const ok = client({ https: true, port: sim.ports.https, rejectUnauthorized: false });
    assert.ok(await ok.getJson(THRESHOLDS));
    const strict = client({ https: true, port: sim.ports.https, rejectUnauthorized: true });
    await assert.rejects(strict.getJson(THRESHOLDS), (e: HaloHttpError) => e.code === 'tls');
  });

  it('times out (injected clock) and reports refused connections', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    const clock = new FakeClock(0);
    const c = new HaloHttpClient({ host: '127.0.0.1', port, https: false, clock, timeoutMs: 5000 });
    clients.push(c);
    const p = c.getJson(EVENTS);
    await until(() => clock.pending > 0, 'request timer');
    clock.advance(5000);
    await assert.rejects(p, (e: HaloHttpError) => e.code === 'timeout');
    silent.close();
    await startSim('none');
    const closedPort = port;
    const r = new HaloHttpClient({ host: '127.0.0.1', port: closedPort, https: false, clock: systemClock });
    clients.push(r);
    await assert.rejects(r.getJson(EVENTS), (e: HaloHttpError) => e.code === 'refused');
  });

  it('single-flight and at most one request per second however many callers', async () => {
    await startSim('basic');
    const clock = new FakeClock(10_000);
    const c = client({ auth: 'basic', clock, minSpacingMs: 1000 });
    const first = Array.from({ length: 50 }, () => c.getJson(EVENTS));
    await Promise.all(first);
    assert.equal(sim.requests, 1, '50 concurrent callers share one request');
    const second = Array.from({ length: 50 }, () => c.getJson(EVENTS));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(clock.dueIn(), [1000], 'the next request waits for the 1 s ceiling');
    assert.equal(sim.requests, 1);
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(clock.dueIn(), [1], 'still waiting, no request started');
    assert.equal(sim.requests, 1);
    clock.advance(1);
    await Promise.all(second);
    assert.equal(sim.requests, 2);
  });

  async function poller(output: PollOutput, auth: 'basic' | 'digest'): Promise<{ p: HaloPoller; out: HaloOutMessage[][]; errors: HaloHttpError[] }> {
    await startSim(auth);
    const out: HaloOutMessage[][] = [];
    const errors: HaloHttpError[] = [];
    const p = new HaloPoller(
      { source: client({ auth }), device: 'Sim-1', eventsPath: EVENTS, thresholdsPath: THRESHOLDS, intervalMs: 3600_000, output, clock: systemClock },
      { messages: (m) => out.push(m), error: (e) => errors.push(e), recovered: () => undefined },
    );
    pollers.push(p);
    await until(() => p.polls >= 1 || errors.length > 0, 'first poll');
    return { p, out, errors };
  }

  it('poller, changes mode (Digest): first poll lists every event, then only what changed', async () => {
    const { p, out, errors } = await poller('changes', 'digest');
    assert.deepEqual(errors, []);
    assert.equal(out[0].length, 26);
    const vape0 = out[0].find((m) => m.topic === 'Sim-1/Vape');
    assert.equal(vape0?.payload.threshold, 5);
    assert.equal(vape0?.payload.operator, 'gte');
    sim.state.set('Vape', 9);
    p.pollNow();
    await until(() => out.length >= 2, 'second poll');
    assert.deepEqual(
      out[1].map((m) => m.topic),
      ['Sim-1/Vape'],
    );
    assert.equal(out[1][0].payload.kind, 'set');
    assert.deepEqual(out[1][0].payload.previous, { value: 0.4, active: false });
  });

  it('poller, snapshot mode (Basic): one snapshot per poll', async () => {
    const { out } = await poller('snapshot', 'basic');
    const snap = out[0][0];
    assert.equal(snap.topic, 'Sim-1/snapshot');
    assert.equal(snap.payload.device, 'Sim-1');
    assert.deepEqual(snap.payload.active, []);
    assert.equal((snap.payload.events as Record<string, { threshold: number }>).CO2cal.threshold, 1000);
  });

  it('poller, transitions mode: set/reset edges shaped like halo-in output 1', async () => {
    const { p, out } = await poller('transitions', 'digest');
    await until(() => p.polls === 1, 'first poll');
    assert.equal(out.length, 0, 'nothing set at start: no message');
    sim.state.set('Help');
    p.pollNow();
    await until(() => out.length === 1, 'set edge');
    const m = out[0][0];
    assert.equal(m.topic, 'Sim-1/Help');
    assert.equal(m.payload.kind, 'set');
    assert.equal(m.payload.active, true);
    assert.equal(m.payload.threshold, 50);
    assert.equal(m.payload.remote, `127.0.0.1:${sim.ports.http}`);
    // the same fields as halo-in output 1 (SPEC), nothing else
    const HALO_IN_FIELDS = ['device', 'event', 'active', 'kind', 'value', 'threshold', 'source', 'mac', 'ip', 'simulated', 'deviceTime', 'receivedAt', 'remote', 'tokens'];
    for (const k of Object.keys(m.payload)) assert.ok(HALO_IN_FIELDS.includes(k), `payload.${k} is not a halo-in output 1 field`);
    for (const k of ['device', 'event', 'active', 'kind', 'receivedAt', 'remote', 'tokens']) assert.ok(k in m.payload, k);
    assert.equal(typeof m.payload.receivedAt, 'number');
    const tokens = m.payload.tokens as Record<string, string>;
    assert.equal(tokens.EID, 'Help');
    assert.equal(tokens.THR, '50');
    assert.equal(typeof tokens.OPERATOR, 'string', 'the operator is kept as the %OPERATOR% token');
    // msg.raw: the event's own entry of the event_state response, as JSON text
    assert.equal(typeof m.raw, 'string');
    const raw = JSON.parse(m.raw ?? '') as Record<string, { log_set?: number }>;
    assert.deepEqual(Object.keys(raw), ['Help']);
    assert.equal(raw.Help.log_set, 1);
    sim.state.reset('Help');
    p.pollNow();
    await until(() => out.length === 2, 'reset edge');
    assert.equal(out[1][0].payload.kind, 'reset');
  });

  it('poller errors: reported once per change, back-off grows to the cap, recovery reported', async () => {
    const clock = new FakeClock(0);
    let fail: HaloHttpError | undefined = new HaloHttpError('refused', 'connection refused');
    let recovered = 0;
    const errors: Array<[string, boolean, number]> = [];
    const source = {
      label: 'x:1',
      getJson: async (path: string): Promise<unknown> => {
        if (fail) throw fail;
        return path === EVENTS ? { Vape: { val: 1, log_set: 0 } } : [];
      },
    };
    const p = new HaloPoller(
      { source, device: 'D', eventsPath: EVENTS, thresholdsPath: THRESHOLDS, intervalMs: 10_000, output: 'snapshot', clock },
      { messages: () => undefined, error: (e, changed, retry) => errors.push([e.key, changed, retry]), recovered: () => recovered++ },
    );
    pollers.push(p);
    const tick = async (ms: number): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      clock.advance(ms);
      await new Promise((r) => setImmediate(r));
    };
    await tick(0);
    for (const ms of [10_000, 20_000, 40_000, 60_000]) await tick(ms);
    assert.deepEqual(
      errors.map((e) => e[2]),
      [10_000, 20_000, 40_000, 60_000, 60_000],
    );
    assert.deepEqual(
      errors.map((e) => e[1]),
      [true, false, false, false, false],
    );
    fail = new HaloHttpError('auth', 'HTTP 401', 401);
    await tick(60_000);
    assert.deepEqual(errors[5], ['auth:401', true, 60_000]);
    fail = undefined;
    await tick(60_000);
    assert.equal(recovered, 1);
    assert.equal(p.error, undefined);
    p.close();
    assert.equal(clock.pending, 0);
  });
});

describe('halo poller: thresholds path errors', () => {
  const EVENTS_JSON = { Vape: { val: 7, rawval: 7, log_set: 1 } };

  /** A poller whose requests fail as `failing` says (changeable later through `fail`), after its first poll. */
  async function firstPoll(failing: { thresholds?: HaloHttpError; events?: HaloHttpError }): Promise<{
    p: HaloPoller;
    clock: FakeClock;
    warnings: string[];
    errors: string[];
    snaps: HaloOutMessage[];
    asked: { thresholds: number; events: number };
    fail: { thresholds?: HaloHttpError; events?: HaloHttpError };
    tick(ms: number): Promise<void>;
  }> {
    const clock = new FakeClock(0);
    const fail: { thresholds?: HaloHttpError; events?: HaloHttpError } = { ...failing };
    const asked = { thresholds: 0, events: 0 };
    const source = {
      label: 'halo:443',
      getJson: async (path: string): Promise<unknown> => {
        if (path === THRESHOLDS) {
          asked.thresholds++;
          if (fail.thresholds) throw fail.thresholds;
          return [{ id: 'Vape', threshold: 5, operator: 'gte' }];
        }
        asked.events++;
        if (fail.events) throw fail.events;
        return EVENTS_JSON;
      },
    };
    const warnings: string[] = [];
    const errors: string[] = [];
    const snaps: HaloOutMessage[] = [];
    const p = new HaloPoller(
      { source, device: 'D', eventsPath: EVENTS, thresholdsPath: THRESHOLDS, intervalMs: 10_000, output: 'snapshot', clock, autoStart: false },
      { messages: (m) => snaps.push(...m), error: (e) => errors.push(e.key), recovered: () => undefined, thresholdsError: (e) => warnings.push(e.key) },
    );
    const tick = async (ms: number): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      clock.advance(ms);
      await new Promise((r) => setImmediate(r));
    };
    p.start();
    await tick(0);
    return { p, clock, warnings, errors, snaps, asked, fail, tick };
  }

  const threshold = (m: HaloOutMessage | undefined): unknown => (m?.payload.events as Record<string, { threshold?: number }> | undefined)?.Vape.threshold;

  it('401/403 or another HTTP error on the thresholds path: warned once per reason, events still polled', async () => {
    const { p, warnings, errors, snaps, asked, fail, tick } = await firstPoll({ thresholds: new HaloHttpError('auth', 'HTTP 403 from halo:443', 403) });
    assert.deepEqual(warnings, ['auth:403']);
    assert.deepEqual(errors, [], 'not a failing poll');
    assert.equal(snaps.length, 1);
    assert.equal(threshold(snaps[0]), undefined, 'polled without thresholds');
    // 60 more polls over 600 s; the 10-minute refresh fails the same way: no new warning
    for (let i = 0; i < 60; i++) await tick(10_000);
    assert.equal(snaps.length, 61);
    assert.equal(asked.thresholds, 2, 'retried at the 10-minute refresh, not every poll');
    assert.deepEqual(warnings, ['auth:403']);
    assert.deepEqual(errors, []);
    // a different reason is warned about
    fail.thresholds = new HaloHttpError('http', 'HTTP 404 from halo:443', 404);
    for (let i = 0; i < 60; i++) await tick(10_000);
    assert.deepEqual(warnings, ['auth:403', 'http:404']);
    // readable again: thresholds are back; a later failure is warned about afresh
    fail.thresholds = undefined;
    for (let i = 0; i < 60; i++) await tick(10_000);
    assert.equal(threshold(snaps.at(-1)), 5);
    fail.thresholds = new HaloHttpError('auth', 'HTTP 403 from halo:443', 403);
    for (let i = 0; i < 60; i++) await tick(10_000);
    assert.deepEqual(warnings, ['auth:403', 'http:404', 'auth:403']);
    assert.equal(threshold(snaps.at(-1)), 5, 'the last thresholds read are kept');
    assert.deepEqual(errors, []);
    p.close();
  });

  it('bad JSON on the thresholds path: warned, events still polled', async () => {
    const { p, warnings, errors, snaps } = await firstPoll({ thresholds: new HaloHttpError('json', 'not JSON') });
    assert.deepEqual(warnings, ['json']);
    assert.deepEqual(errors, []);
    assert.equal(snaps.length, 1);
    p.close();
  });

  it('events fail as well (e.g. a wrong password): one poll error, no thresholds warning, thresholds retried next poll', async () => {
    const { p, warnings, errors, snaps, asked, fail, tick } = await firstPoll({ thresholds: new HaloHttpError('auth', 'HTTP 401', 401), events: new HaloHttpError('auth', 'HTTP 401', 401) });
    assert.deepEqual(errors, ['auth:401']);
    assert.deepEqual(warnings, []);
    fail.thresholds = undefined;
    fail.events = undefined;
    await tick(10_000); // the back-off's first retry
    assert.equal(asked.thresholds, 2);
    assert.equal(snaps.length, 1);
    assert.equal(threshold(snaps[0]), 5);
    assert.deepEqual(warnings, []);
    p.close();
  });

  it('an unreachable HALO (refused / timeout) on the thresholds request is the poll\'s failure', async () => {
    const { p, warnings, errors, asked } = await firstPoll({ thresholds: new HaloHttpError('timeout', 'no answer') });
    assert.deepEqual(errors, ['timeout']);
    assert.deepEqual(warnings, []);
    assert.equal(asked.events, 0, 'no second wait for the events request');
    p.close();
  });
});

describe('halo client: redirects', () => {
  it('explains an HTTP → HTTPS redirect', async () => {
    const http = await import('node:http');
    const srv = http.createServer((_req, res) => {
      res.writeHead(301, { Location: 'https://127.0.0.1/api/config/gstate/event_state' });
      res.end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    const c = new HaloHttpClient({ host: '127.0.0.1', port, https: false, clock: systemClock });
    await assert.rejects(c.getJson(EVENTS), (e: HaloHttpError) => e.status === 301 && /turn on HTTPS/.test(e.message));
    c.close();
    srv.close();
  });
});
