import assert from 'node:assert/strict';
import { Framer, type FramerMode } from '../../../lib/common/framer';
import { FakeClock } from '../../../lib/common/clock';
import { HeartbeatWatchdog, type OnlineChange } from '../../../lib/halo/watchdog';
import { AllowList } from '../../../lib/halo/allow';
import { decodeDelimiter } from '../../../lib/halo/receiver';

function frame(mode: FramerMode, delimiters: string[] | undefined, chunks: string[], max = 65536): { out: string[]; over: number[]; junk: string[] } {
  const out: string[] = [];
  const over: number[] = [];
  const junk: string[] = [];
  const f = new Framer({ mode, delimiters, maxMessageBytes: max, onMessage: (b) => out.push(b.toString()), onOversize: (n) => over.push(n), onGarbage: (b) => junk.push(b.toString()) });
  for (const c of chunks) f.push(Buffer.from(c));
  f.end();
  return { out, over, junk };
}

/** Every way to cut `text` into 1..3 chunks, plus byte-by-byte. */
function splits(text: string): string[][] {
  const out: string[][] = [[text], text.split('')];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  for (let i = 1; i < text.length; i += 3) for (let j = i + 1; j < text.length; j += 5) out.push([text.slice(0, i), text.slice(i, j), text.slice(j)]);
  return out;
}

describe('halo framing (the shared Framer in the modes halo-in uses)', () => {
  it('newline: \\n and \\r\\n, split and merged chunks', () => {
    const text = '{"a":1}\n{"b":2}\r\nhalo.event.Vape\r\n';
    for (const chunks of splits(text)) assert.deepEqual(frame('delimiter', ['\r\n', '\n'], chunks).out, ['{"a":1}', '{"b":2}', 'halo.event.Vape'], JSON.stringify(chunks));
  });

  it('delimiter: a user string such as ";" or "\\r\\n\\r\\n", split and merged', () => {
    const text = 'DeviceId=A C=@1@;DeviceId=B C=@2@;';
    for (const chunks of splits(text)) assert.deepEqual(frame('delimiter', [';'], chunks).out, ['DeviceId=A C=@1@', 'DeviceId=B C=@2@']);
    const t2 = 'one\r\n\r\ntwo\r\n\r\n';
    for (const chunks of splits(t2)) assert.deepEqual(frame('delimiter', [decodeDelimiter('\\r\\n\\r\\n')], chunks).out, ['one', 'two']);
  });

  it('json: back-to-back objects, braces and quotes inside strings, split and merged', () => {
    const text = '{"device":"A","event":"V}{"}{"device":"B","x":{"y":"\\"}"}} {"c":3}';
    for (const chunks of splits(text)) {
      assert.deepEqual(frame('json', undefined, chunks).out, ['{"device":"A","event":"V}{"}', '{"device":"B","x":{"y":"\\"}"}}', '{"c":3}'], JSON.stringify(chunks));
    }
  });

  it('json: garbage between objects is reported, not lost', () => {
    const r = frame('json', undefined, ['junk{"a":1}', 'more junk']);
    assert.deepEqual(r.out, ['{"a":1}']);
    assert.ok(r.junk.join('').includes('junk'));
  });

  it('close: the whole connection is one message', () => {
    for (const chunks of splits('line1\nline2')) assert.deepEqual(frame('close', undefined, chunks).out, ['line1\nline2']);
  });

  it('oversize messages are reported and skipped, the next one still arrives', () => {
    const r = frame('delimiter', ['\n'], ['x'.repeat(50), 'x'.repeat(80) + '\nok\n'], 64);
    assert.deepEqual(r.out, ['ok']);
    assert.equal(r.over.length, 1);
  });
});

describe('halo heartbeat watchdog', () => {
  it('goes offline after missed × interval of silence and back online on the next heartbeat', () => {
    const clock = new FakeClock(1000);
    const changes: OnlineChange[] = [];
    const w = new HeartbeatWatchdog({ clock, intervalMs: 60000, missed: 3, onChange: (c) => changes.push(c) });
    w.beat('A');
    assert.deepEqual(changes, [{ device: 'A', online: true, lastSeen: 1000 }]);
    clock.advance(60000);
    w.beat('A'); // t = 61000
    clock.advance(179999);
    assert.equal(changes.length, 1, 'still online just before 3 intervals');
    clock.advance(1);
    assert.deepEqual(changes[1], { device: 'A', online: false, lastSeen: 61000 });
    assert.equal(w.isOnline('A'), false);
    clock.advance(600000);
    assert.equal(changes.length, 2, 'offline is reported once');
    w.beat('A');
    assert.deepEqual(changes[2], { device: 'A', online: true, lastSeen: clock.now() });
    w.close();
    assert.equal(clock.pending, 0, 'close clears every timer');
  });

  it('keeps devices apart', () => {
    const clock = new FakeClock(0);
    const changes: OnlineChange[] = [];
    const w = new HeartbeatWatchdog({ clock, intervalMs: 10000, missed: 2, onChange: (c) => changes.push(c) });
    w.beat('A');
    clock.advance(15000);
    w.beat('B');
    clock.advance(5000);
    assert.deepEqual(
      changes.map((c) => `${c.device}:${c.online}`),
      ['A:true', 'B:true', 'A:false'],
    );
    w.close();
  });
});

describe('halo allow list', () => {
  it('accepts IPs and CIDRs (v4, v6, v4-mapped) and rejects bad entries', () => {
    const a = new AllowList('10.0.0.0/8, 192.168.1.5 ::1');
    assert.equal(a.allows('10.2.3.4'), true);
    assert.equal(a.allows('::ffff:10.2.3.4'), true);
    assert.equal(a.allows('192.168.1.5'), true);
    assert.equal(a.allows('192.168.1.6'), false);
    assert.equal(a.allows('::1'), true);
    assert.equal(new AllowList('').allows('8.8.8.8'), true);
    assert.throws(() => new AllowList('10.0.0.0/33'));
    assert.throws(() => new AllowList('not-an-ip'));
  });
});
