import assert from 'node:assert/strict';
import net from 'node:net';
import { FakeClock } from '../../../lib/common/clock';
import { encode, IsotelDecoder, IsotelMessage } from '../../../lib/isotel/codec';
import { IsotelSim } from '../../../lib/isotel/sim';
import { until } from '../../helpers/wait';

/** A bare service: a socket plus the decoded messages the sim sent it. */
async function service(port: number, name: string): Promise<{ sock: net.Socket; got: IsotelMessage[] }> {
  const got: IsotelMessage[] = [];
  const dec = new IsotelDecoder({ onMessage: (m) => got.push(m) });
  const sock = net.connect(port, '127.0.0.1');
  sock.on('data', (d: Buffer) => dec.push(d));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(encode.ident({ name, vendor: 'T', version: '1' }));
  return { sock, got };
}

describe('isotel-sim (lib)', () => {
  let clock: FakeClock;
  let sim: IsotelSim;
  let value = 0;

  beforeEach(async () => {
    clock = new FakeClock(1_000_000);
    value = 0;
    sim = new IsotelSim({ clock, httpPort: 0, requestTimeoutMs: 5000, params: [{ uri: '/me/device0/ec/E', intervalMs: 100, value: () => ++value }] });
    await sim.start();
  });

  afterEach(async () => {
    await sim.stop();
  });

  it('SIGNALs every change without debounce, at most once per debounce_time (latest value wins), without data when send_data is false', async () => {
    const a = await service(sim.port, 'a');
    const b = await service(sim.port, 'b');
    a.sock.write(encode.connect('/me/device0/ec/E'));
    b.sock.write(encode.connect('me/device0/ec/E', { debounce_time: 350, send_data: false }));
    await until(() => a.got.length === 1 && b.got.length === 1, 'CONNECT acks');
    assert.deepEqual(a.got[0], { kind: 'connect', uri: '/me/device0/ec/E', body: { status: 'OK' } });
    for (let i = 0; i < 10; i++) clock.advance(100); // ten changes, 1 s
    await until(() => a.got.length === 11, 'ten SIGNALs to a');
    const aValues = a.got.slice(1).map((m) => (m.kind === 'signal' ? (m.data as { E: { value: string } }).E.value : '?'));
    // (the value function ran once at start-up: the ten changes are 2..11)
    assert.deepEqual(aValues, ['2.00', '3.00', '4.00', '5.00', '6.00', '7.00', '8.00', '9.00', '10.00', '11.00']);
    // b: first at once (t=100), then one per 350 ms with the latest value held: t=450, 800
    await until(() => b.got.length === 4, 'debounced SIGNALs to b');
    // A barrier instead of a sleep: the sim acknowledges this CONNECT after whatever it wrote before.
    b.sock.write(encode.connect('/me/probe/x'));
    await until(() => b.got.length === 5, 'the barrier ack');
    assert.equal(b.got.pop()?.kind, 'connect');
    assert.equal(b.got.length, 4);
    for (const m of b.got.slice(1)) {
      assert.equal(m.kind, 'signal');
      if (m.kind === 'signal') assert.deepEqual(Object.keys(m.data as object), ['status', 'time']);
    }
    assert.deepEqual(
      b.got.slice(1).map((m) => (m.kind === 'signal' ? (m.data as { time: string }).time : '')),
      ['1000.100', '1000.450', '1000.800'],
    );
    clock.advance(100); // t=1100: held value goes out at 1150
    clock.advance(100);
    await until(() => b.got.length === 5, 'held SIGNAL');
    a.sock.destroy();
    b.sock.destroy();
  });

  it('a message it cannot handle (CONNECT / has no URI to acknowledge) is logged, the connection goes on', async () => {
    const a = await service(sim.port, 'a');
    a.sock.write('CONNECT /\n\n' + encode.connect('/me/device0/ec/E'));
    await until(() => a.got.length === 1, 'the next CONNECT acknowledged');
    assert.deepEqual(a.got[0], { kind: 'connect', uri: '/me/device0/ec/E', body: { status: 'OK' } });
    a.sock.destroy();
  });

  it('refuses unknown parameters and honours DISCONNECT <uri>', async () => {
    const a = await service(sim.port, 'a');
    a.sock.write(encode.connect('/me/nope/x') + encode.connect('/me/device0/ec/E'));
    await until(() => a.got.length === 2, 'acks');
    assert.deepEqual(a.got[0], { kind: 'connect', uri: '/me/nope/x', body: { status: 'Error' } });
    a.sock.write(encode.disconnect('/me/device0/ec/E'));
    await until(() => [...sim.connections][0]?.subs.size === 0, 'unsubscribed');
    clock.advance(500);
    a.sock.write(encode.connect('/me/probe/x')); // a barrier: acknowledged after anything written before
    await until(() => a.got.length === 3, 'the barrier ack');
    assert.deepEqual(a.got[2], { kind: 'connect', uri: '/me/probe/x', body: { status: 'Error' } });
    a.sock.destroy();
  });

  it('HTTP front: relays query (+ POSTed JSON) as one object, answers from REPLY/HREPLY/IDENT, 503/504/404', async () => {
    const a = await service(sim.port, 'svc');
    await until(() => sim.service('svc') !== undefined, 'IDENT');
    const base = `http://127.0.0.1:${sim.httpPort}/api/v1/me/services/svc`;
    const p1 = fetch(`${base}?action=read&id=7`);
    await until(() => a.got.length === 1, 'request 1');
    assert.deepEqual(a.got[0], { kind: 'request', body: { action: 'read', id: '7' } });
    a.sock.write(encode.reply('plain'));
    const r1 = await p1;
    assert.deepEqual([r1.status, r1.headers.get('content-type'), await r1.text()], [200, 'text/plain', 'plain']);
    const p2 = fetch(`${base}.json?action=write`, { method: 'POST', body: JSON.stringify({ v: 1 }), headers: { 'content-type': 'application/json' } });
    await until(() => a.got.length === 2, 'request 2');
    assert.deepEqual(a.got[1], { kind: 'request', body: { v: 1, action: 'write' } });
    a.sock.write(encode.hreply(418, 'application/json', { teapot: true }));
    const r2 = await p2;
    assert.deepEqual([r2.status, await r2.json()], [418, { teapot: true }]);
    const p3 = fetch(`${base}?action=ident`);
    await until(() => a.got.length === 3, 'ident request');
    a.sock.write(encode.ident({ name: 'svc', vendor: 'T', version: '2' }));
    assert.deepEqual(await (await p3).json(), { name: 'svc', vendor: 'T', version: '2' });
    const p4 = fetch(`${base}?action=slow`);
    await until(() => a.got.length === 4, 'slow request');
    clock.advance(5000);
    assert.equal((await p4).status, 504);
    assert.equal((await fetch(`http://127.0.0.1:${sim.httpPort}/api/v1/me/services/other`)).status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${sim.httpPort}/nope`)).status, 404);
    a.sock.write(encode.notify({ message: 'hello' }));
    await until(() => sim.activity.length === 1, 'notify');
    const act = (await (await fetch(`http://127.0.0.1:${sim.httpPort}/api/v1/me/activity.json`)).json()) as Array<{ message: string; module: string }>;
    assert.deepEqual([act[0].message, act[0].module], ['hello', 'svc']);
    const stop = await fetch(`${base}?action=stop`);
    assert.equal(stop.status, 200);
    await until(() => a.got.some((m) => m.kind === 'stop'), 'STOP');
    a.sock.destroy();
  });
});
