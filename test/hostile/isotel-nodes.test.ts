/**
 * The Isotel attacks over a real socket: a raw TCP "IoT" that the isotel-service connects to
 * sends each attack; afterwards Node-RED is still alive (its HTTP server answers, nothing
 * uncaught), the service still answers a status request on the same link, the event loop's
 * largest delay is printed, and after the flow stops nothing is left behind (no timer on the
 * flow clock, the link closed).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { NodeMessage } from 'node-red';
import { FakeClock } from '../../lib/common/clock';
import type { IsotelServiceNode } from '../../nodes/isotel-service/service-types';
import { assertLoopDelay, deepArray, deepObject, noUncaught, prng, randomBytes, stillAnswering, underAttack } from '../helpers/hostile';
import { calls, helper, nodeModule, until } from '../helpers/nodered';

const modules = ['isotel-service', 'isotel-in', 'isotel-reply', 'isotel-signal', 'isotel-notify'].map(nodeModule) as Parameters<typeof helper.load>[0];

/** The IoT end: accepts the service's connection, records what it says. */
class RawIoT {
  readonly server = net.createServer((s) => this.accept(s));
  socket?: net.Socket;
  received = '';
  connections = 0;

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return (this.server.address() as net.AddressInfo).port;
  }

  private accept(s: net.Socket): void {
    this.connections++;
    this.socket = s;
    this.received = '';
    s.on('data', (d: Buffer) => (this.received += d.toString('latin1')));
    s.on('error', () => undefined);
  }

  /** Write and wait until the kernel took it (a peer that reads slowly must not make us buffer forever). */
  async send(data: string | Buffer): Promise<void> {
    const s = this.socket;
    assert.ok(s && !s.destroyed, 'no connection from the service');
    if (!s.write(data)) await new Promise((r) => s.once('drain', r));
  }

  count(re: RegExp): number {
    return (this.received.match(re) ?? []).length;
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

describe('hostile: Isotel attacks over a real socket', function () {
  let iot: RawIoT;
  let clock: FakeClock;

  beforeEach(async () => {
    iot = new RawIoT();
    clock = new FakeClock(1_700_000_000_000);
    helper.settings({ vigilClock: clock } as never);
    await helper.startServer();
  });

  afterEach('nothing left behind once the flow stopped', async () => {
    await helper.unload();
    assert.equal(clock.pending, 0, 'a timer of the Isotel nodes outlived the flow');
    await until(() => !iot.socket || iot.socket.readableEnded || iot.socket.destroyed, 'the link closed');
    helper.settings({});
    await helper.stopServer();
    await iot.close();
  });

  async function start(): Promise<void> {
    const port = await iot.listen();
    await helper.load(modules, [
      { id: 'svc', type: 'isotel-service', name: 'hostile', host: '127.0.0.1', port, requestTimeout: 10 },
      // The flow answers every request with its own payload; a second wire makes Node-RED clone each message.
      { id: 'in1', type: 'isotel-in', service: 'svc', wires: [['rep1', 'out1']] },
      { id: 'rep1', type: 'isotel-reply', service: 'svc' },
      { id: 'out1', type: 'helper' },
      { id: 'sig1', type: 'isotel-signal', service: 'svc', uris: ['/me/a', '/me/b'], wires: [['out2', 'out3']] },
      { id: 'out2', type: 'helper' },
      { id: 'out3', type: 'helper' },
    ] as never);
    await until(() => iot.count(/^IDENT /gm) === 1 && iot.count(/^CONNECT \/me\/b/gm) === 1, 'IDENT and CONNECTs from the service', 1000);
  }

  /**
   * The service still answers on its link: a status request gets its REPLY — and since answers
   * leave in request order, every request sent before it was answered too.
   */
  async function serviceAnswers(): Promise<void> {
    const before = iot.count(/^REPLY \{"status":"OK","name":"hostile"/gm);
    await iot.send('{"action":"status"}\n\n');
    await until(() => iot.count(/^REPLY \{"status":"OK","name":"hostile"/gm) === before + 1, 'the status REPLY', 3000);
  }

  /** Run `fn` (send the attack, wait for its effect), then check everything before it was answered; print the loop delay. */
  async function attack(label: string, fn: () => Promise<void>): Promise<void> {
    const m = await noUncaught(label, () =>
      underAttack(`isotel ${label}`, async () => {
        await fn();
        await serviceAnswers();
      }),
    );
    assertLoopDelay(m);
    await stillAnswering(helper);
  }

  it('deep, wide and long bodies in every position: nothing deeper than the limit leaves a node, Node-RED answers', async () => {
    await start();
    const svc = helper.getNode('svc') as unknown as IsotelServiceNode;
    const out: NodeMessage[] = [];
    helper.getNode('out1').on('input', (m: NodeMessage) => out.push(m));
    helper.getNode('out2').on('input', (m: NodeMessage) => out.push(m));
    const errors = calls(helper.getNode('sig1'), 'error');

    await attack('CONNECT acknowledgement nested 100 000 deep', async () => {
      await iot.send(`CONNECT /me/a ${deepArray(100_000)}\n\n`);
      await until(() => errors.length === 1, 'the refusal reported');
    });
    await attack('request nested 5 000 deep to isotel-in wired to two nodes', async () => {
      await iot.send(`${deepObject(5000)}\n\n`);
      await until(() => iot.count(/^REPLY \{"a":\{"a"/gm) === 1, 'the flow answered it');
    });
    await attack('request with 20 000 values and one with a 300 KiB string', async () => {
      await iot.send(`[${'1,'.repeat(20_000)}1]\n\n"${'x'.repeat(300 * 1024)}"\n\n`);
    });
    assert.equal(svc.client.pendingRequests, 0);
    await attack('SIGNALs with deep data for a subscribed URI, 1 000 times', async () => {
      await iot.send(`SIGNAL /me/a {"v":${deepArray(40)}}\n\n`.repeat(1000));
      await until(() => out.filter((m) => m.topic === '/me/a').length === 1000, 'the SIGNALs (as text)');
    });
    for (const m of out) assert.ok(typeof m.payload === 'string' || JSON.stringify(m.payload).length < 1e6, 'a bounded payload');
    assert.ok(out.filter((m) => m.topic === '/me/a').every((m) => typeof m.payload === 'string'));
  });

  it('garbage: 1 MiB of random bytes and invalid UTF-8 in 2 000 messages, 10 000 malformed requests — warnings rate-limited, every request answered', async () => {
    await start();
    const svc = helper.getNode('svc') as unknown as IsotelServiceNode;
    const warns = calls(helper.getNode('svc'), 'warn');
    const rnd = prng(0x150);
    await attack('1 MiB of random bytes in 2 000 messages', async () => {
      const parts: Buffer[] = [];
      for (let i = 0; i < 2000; i++) parts.push(Buffer.from(randomBytes(rnd, 512).map((b) => (b === 0x0a ? 0x20 : b))), Buffer.from('\n\n'));
      await iot.send(Buffer.concat(parts));
    });
    const before = svc.client.stats.requests;
    const answered = (): number => iot.count(/^H?REPLY /gm);
    const answeredBefore = answered();
    await attack('10 000 malformed requests', async () => {
      await iot.send('{"action":\n\n'.repeat(10_000));
    });
    assert.equal(svc.client.stats.requests, before + 10_000 + 1);
    assert.equal(answered(), answeredBefore + 10_000 + 1, 'every request answered (by the flow, or 503 when too many waited)');
    assert.equal(svc.client.pendingRequests, 0);
    assert.ok(warns.length <= 20, `${warns.length} warnings logged for 10 000 malformed requests (rate-limited)`);
  });

  it('a message growing past 1 MiB without a terminator: dropped, link reset and re-established; a held reply across it is stale', async () => {
    await start();
    const out: NodeMessage[] = [];
    helper.getNode('out1').on('input', (m: NodeMessage) => out.push(m));
    // A request the flow answers at once; keep its message to answer it again later.
    await iot.send('{"q":"first"}\n\n');
    await until(() => out.length === 1, 'the first request');
    const held = out[0];
    await attack('2 MiB without a terminator', async () => {
      const first = iot.socket;
      const chunk = Buffer.alloc(64 * 1024, 0x7b);
      for (let i = 0; i < 32; i++) await iot.send(chunk);
      await until(() => first?.destroyed === true || first?.readableEnded === true, 'the link reset');
      clock.advance(1000); // the first retry
      await until(() => iot.connections === 2 && iot.count(/^IDENT /gm) === 1, 'the service back', 1000);
    });
    const errors = calls(helper.getNode('rep1'), 'error');
    helper.getNode('rep1').receive({ ...held, payload: 'late' });
    await until(() => errors.length === 1, 'the held reply refused');
    assert.match(String(errors[0].args[0]), /stale/);
    assert.ok(!iot.received.includes('REPLY late'), 'the held reply never reached the new connection');
  });

});
