/**
 * HaloReceiver over loopback TCP: what a connection leaves unterminated is handed on when
 * the connection ends — idle timeout (on a FakeClock), peer end, peer reset, receiver
 * close — in every framing mode; the idle timer counts from the last data.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { FakeClock } from '../../../lib/common/clock';
import { HaloReceiver, type HaloFraming } from '../../../lib/halo/receiver';
import { until } from '../../helpers/wait';

interface Rig {
  r: HaloReceiver;
  clock: FakeClock;
  messages: string[];
  garbage: string[];
  slow: Array<{ ms: number; bytes: number }>;
  connect(): Promise<net.Socket>;
}

const TAIL = '{"device":"H","event":"Vape","alarm":"yes"}';

describe('halo receiver: unterminated tails are delivered when a connection ends', () => {
  const open: HaloReceiver[] = [];
  const sockets: net.Socket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const r of open.splice(0)) await r.close();
  });

  async function rig(framing: HaloFraming, extra: { delimiter?: string; idleTimeoutMs?: number; messageTimeoutMs?: number } = {}): Promise<Rig> {
    const clock = new FakeClock(1_000_000);
    const messages: string[] = [];
    const garbage: string[] = [];
    const slow: Array<{ ms: number; bytes: number }> = [];
    const r = new HaloReceiver(
      // No message deadline unless a test asks for one (these are about the idle timeout).
      { transport: 'tcp', host: '127.0.0.1', port: 0, framing, idleTimeoutMs: 300_000, messageTimeoutMs: 0, clock, ...extra },
      {
        message: (t) => messages.push(t),
        oversize: () => undefined,
        refused: () => undefined,
        garbage: (t) => garbage.push(t),
        slow: (_remote, ms, bytes) => slow.push({ ms, bytes }),
      },
    );
    await r.start();
    open.push(r);
    const connect = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: r.port }, () => resolve(s));
        s.on('error', () => undefined);
        s.once('error', reject);
        sockets.push(s);
      });
    return { r, clock, messages, garbage, slow, connect };
  }

  function serverClosed(s: net.Socket): Promise<void> {
    return new Promise((resolve) => {
      if (s.destroyed) return resolve();
      s.on('close', () => resolve());
      s.resume();
    });
  }

  for (const [framing, delimiter, first] of [
    ['newline', undefined, 'first\n'],
    ['delimiter', ';', 'first;'],
  ] as Array<[HaloFraming, string | undefined, string]>) {
    it(`${framing}: the idle timeout (injected clock) flushes the tail before closing the connection`, async () => {
      const { r, clock, messages, connect } = await rig(framing, { delimiter, idleTimeoutMs: 300_000 });
      const s = await connect();
      s.write(first + TAIL);
      await until(() => messages.length === 1 && r.bufferedBytes === TAIL.length, 'the first message and the tail buffered');
      assert.deepEqual(messages, ['first']);
      clock.advance(299_999);
      assert.equal(messages.length, 1, 'not idle yet');
      clock.advance(1);
      assert.deepEqual(messages, ['first', TAIL], 'the tail is delivered at the timeout');
      await serverClosed(s);
      await until(() => r.connections === 0, 'connection gone');
      assert.equal(clock.pending, 0, 'no idle timer left');
      assert.deepEqual(messages, ['first', TAIL], 'delivered once');
    });
  }

  it('json: an unfinished object left at the idle timeout is handed on (as garbage → unknown), not dropped', async () => {
    const { r, clock, messages, garbage, connect } = await rig('json', { idleTimeoutMs: 1000 });
    const s = await connect();
    s.write('{"a":1}{"device":"H","event":');
    await until(() => messages.length === 1 && r.bufferedBytes > 0, 'first object and the tail');
    clock.advance(1000);
    assert.deepEqual(garbage, ['{"device":"H","event":']);
    await serverClosed(s);
  });

  it('close: the idle timeout still ends the one message', async () => {
    const { r, clock, messages, connect } = await rig('close', { idleTimeoutMs: 1000 });
    const s = await connect();
    s.write('halo.event.Vape');
    await until(() => r.bufferedBytes === 15, 'buffered');
    clock.advance(1000);
    assert.deepEqual(messages, ['halo.event.Vape']);
    await serverClosed(s);
  });

  it('the idle timer counts from the last data, not from the connect', async () => {
    const { r, clock, messages, connect } = await rig('newline', { idleTimeoutMs: 1000 });
    const s = await connect();
    clock.advance(600);
    s.write('ab');
    await until(() => r.bufferedBytes === 2, 'data');
    clock.advance(600); // 1200 since connect, 600 since data
    assert.equal(r.connections, 1, 'still open');
    assert.deepEqual(messages, []);
    clock.advance(399);
    assert.equal(r.connections, 1);
    clock.advance(1);
    assert.deepEqual(messages, ['ab']);
    await serverClosed(s);
  });

  for (const framing of ['newline', 'delimiter', 'close'] as HaloFraming[]) {
    it(`${framing}: a peer that ends the connection without a terminator — the tail is delivered`, async () => {
      const { messages, connect } = await rig(framing, { delimiter: ';' });
      const s = await connect();
      s.end(TAIL);
      await until(() => messages.length === 1, 'the tail');
      assert.deepEqual(messages, [TAIL]);
    });
  }

  it('slowloris: a message trickled byte by byte keeps the idle timer alive but meets the message deadline', async () => {
    const { r, clock, messages, slow, connect } = await rig('newline', { idleTimeoutMs: 1000, messageTimeoutMs: 5000 });
    const s = await connect();
    for (let i = 0; i < 10; i++) {
      s.write('x');
      await until(() => r.bufferedBytes === i + 1, `byte ${i + 1}`);
      clock.advance(500); // never idle for 1 s …
      if (i < 9) assert.equal(r.connections, 1, 'still open while within the deadline');
    }
    // … but 5 s after the first byte the message is over its deadline: connection closed.
    await serverClosed(s);
    await until(() => r.connections === 0, 'closed');
    assert.deepEqual(slow, [{ ms: 5000, bytes: 10 }]);
    assert.deepEqual(messages, ['xxxxxxxxxx'], 'what it sent is handed on, as at an idle timeout');
    assert.equal(clock.pending, 0, 'no timer left');
  });

  it('the deadline is per message: a connection sending whole messages stays open however long it lives', async () => {
    const { r, clock, messages, slow, connect } = await rig('newline', { idleTimeoutMs: 0, messageTimeoutMs: 1000 });
    const s = await connect();
    for (let i = 0; i < 5; i++) {
      s.write(`m${i}\nhalf`);
      await until(() => messages.length === i + 1 && r.bufferedBytes === 4, `message ${i}`);
      clock.advance(600);
      s.write(' done\n');
      await until(() => messages.length === i + 2 || r.bufferedBytes === 0, `end of the half message ${i}`);
      messages.splice(i + 1);
      clock.advance(600);
    }
    assert.equal(r.connections, 1);
    assert.deepEqual(slow, []);
  });

  it('a peer that resets the connection (RST) — the tail is delivered', async () => {
    const { r, messages, connect } = await rig('newline');
    const s = await connect();
    s.write(TAIL);
    await until(() => r.bufferedBytes === TAIL.length, 'buffered');
    s.resetAndDestroy();
    await until(() => messages.length === 1, 'the tail');
    assert.deepEqual(messages, [TAIL]);
  });

  it('closing the receiver delivers what open connections left, and leaves no timer', async () => {
    const { r, clock, messages, connect } = await rig('newline', { idleTimeoutMs: 1000 });
    const s = await connect();
    s.write(TAIL);
    await until(() => r.bufferedBytes === TAIL.length, 'buffered');
    await r.close();
    assert.deepEqual(messages, [TAIL]);
    assert.equal(clock.pending, 0);
    await serverClosed(s);
    assert.deepEqual(messages, [TAIL], 'once');
  });

  it('an oversize message is still dropped (with the connection), not flushed at the end', async () => {
    const clock = new FakeClock(0);
    const messages: string[] = [];
    const over: number[] = [];
    const r = new HaloReceiver(
      { transport: 'tcp', host: '127.0.0.1', port: 0, framing: 'newline', maxMessageBytes: 64, clock },
      { message: (t) => messages.push(t), oversize: (_remote, n) => over.push(n), refused: () => undefined, garbage: () => undefined },
    );
    await r.start();
    open.push(r);
    const s = net.connect({ host: '127.0.0.1', port: r.port });
    sockets.push(s);
    s.on('error', () => undefined);
    s.write('x'.repeat(200));
    await serverClosed(s);
    await until(() => r.connections === 0, 'closed');
    assert.equal(over.length, 1);
    assert.deepEqual(messages, []);
  });
});
