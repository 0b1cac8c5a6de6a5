import assert from 'node:assert/strict';
import { Backoff } from '../../../lib/common/backoff';
import { FakeClock, systemClock } from '../../../lib/common/clock';
import { Framer, type FramerOptions } from '../../../lib/common/framer';

function collect(opts: Omit<FramerOptions, 'onMessage'>) {
  const messages: string[] = [];
  const oversize: number[] = [];
  const garbage: string[] = [];
  const framer = new Framer({
    ...opts,
    onMessage: (m) => messages.push(m.toString('utf8')),
    onOversize: (n) => oversize.push(n),
    onGarbage: (g) => garbage.push(g.toString('utf8')),
  });
  return { framer, messages, oversize, garbage };
}

/** Feed `text` in every possible two-way split and in single bytes; all must give `expected`. */
function allSplits(opts: Omit<FramerOptions, 'onMessage'>, text: string, expected: string[]): void {
  const buf = Buffer.from(text);
  for (let cut = 0; cut <= buf.length; cut++) {
    const c = collect(opts);
    c.framer.push(buf.subarray(0, cut));
    c.framer.push(buf.subarray(cut));
    assert.deepEqual(c.messages, expected, `split at ${cut}`);
  }
  const c = collect(opts);
  for (const b of buf) c.framer.push(Buffer.from([b]));
  assert.deepEqual(c.messages, expected, 'byte by byte');
}

describe('lib/common', function () {
  describe('Framer (delimiter)', function () {
    it('splits newline and CRLF messages across any chunk boundary', function () {
      allSplits({ mode: 'delimiter', delimiters: ['\r\n', '\n'] }, 'a\r\nbb\nccc\r\n', ['a', 'bb', 'ccc']);
    });
    it('handles merged chunks, a multi-byte delimiter and skips empty messages', function () {
      allSplits({ mode: 'delimiter', delimiters: [';;'] }, ';;x;;;;yy;;z', ['x', 'yy']);
    });
    it('prefers the longest delimiter at one place (blank-line framing)', function () {
      allSplits({ mode: 'delimiter', delimiters: ['\n\n', '\r\n\r\n'] }, 'REPLY a\r\n\r\nSIGNAL b\nc\n\n', ['REPLY a', 'SIGNAL b\nc']);
    });
    it('drops an oversize message, reports it once, and resumes at the next delimiter', function () {
      const c = collect({ mode: 'delimiter', delimiters: ['\n'], maxMessageBytes: 8 });
      c.framer.push(Buffer.from('ok\n0123456789'));
      c.framer.push(Buffer.from('abcdef'));
      c.framer.push(Buffer.from('tail\nnext\n'));
      assert.deepEqual(c.messages, ['ok', 'next']);
      assert.equal(c.oversize.length, 1);
      assert.ok(c.framer.buffered <= 8);
    });
    it('emits the unterminated tail on end()', function () {
      const c = collect({ mode: 'delimiter', delimiters: ['\n'] });
      c.framer.push(Buffer.from('a\nb'));
      c.framer.end();
      assert.deepEqual(c.messages, ['a', 'b']);
    });
    it('refuses an empty delimiter', function () {
      assert.throws(() => new Framer({ mode: 'delimiter', delimiters: [''], onMessage: () => undefined }), RangeError);
    });
  });

  describe('Framer (json)', function () {
    it('splits back-to-back JSON with braces and escapes inside strings', function () {
      const text = '{"a":"}{\\"x"}{"b":[1,{"c":2}]} [3]\n{"d":"\\\\"}';
      allSplits({ mode: 'json' }, text, ['{"a":"}{\\"x"}', '{"b":[1,{"c":2}]}', '[3]', '{"d":"\\\\"}']);
    });
    it('reports garbage between objects and keeps the next object', function () {
      const c = collect({ mode: 'json' });
      c.framer.push(Buffer.from('junk{"a":1}'));
      assert.deepEqual(c.messages, ['{"a":1}']);
      assert.deepEqual(c.garbage, ['junk']);
    });
    it('caps an unterminated object', function () {
      const c = collect({ mode: 'json', maxMessageBytes: 10 });
      c.framer.push(Buffer.from('{"a":"0123456789'));
      assert.equal(c.oversize.length, 1);
      c.framer.push(Buffer.from('{"b":1}'));
      assert.deepEqual(c.messages, ['{"b":1}']);
    });
  });

  describe('Framer (close)', function () {
    it('makes one message of the whole stream', function () {
      const c = collect({ mode: 'close' });
      c.framer.push(Buffer.from('a\nb'));
      c.framer.push(Buffer.from('c'));
      c.framer.end();
      assert.deepEqual(c.messages, ['a\nbc']);
    });
  });

  describe('Backoff', function () {
    it('doubles from the initial delay up to the cap and resets', function () {
      const b = new Backoff({ initialMs: 1000, maxMs: 30000 });
      assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => b.next()), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
      assert.equal(b.attempts, 7);
      b.reset();
      assert.equal(b.next(), 1000);
    });
    it('applies jitter within [(1-j)·d, d]', function () {
      const lo = new Backoff({ initialMs: 1000, jitter: 0.5, random: () => 0.999999 });
      const hi = new Backoff({ initialMs: 1000, jitter: 0.5, random: () => 0 });
      assert.equal(lo.next(), 500);
      assert.equal(hi.next(), 1000);
    });
    it('refuses nonsense settings', function () {
      assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
      assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError);
    });
  });

  describe('FakeClock', function () {
    it('fires timers in due order with now() at their due time', function () {
      const clock = new FakeClock(1000);
      const seen: Array<[string, number]> = [];
      clock.setTimeout(() => seen.push(['b', clock.now()]), 20);
      clock.setTimeout(() => seen.push(['a', clock.now()]), 10);
      const iv = clock.setInterval(() => seen.push(['i', clock.now()]), 15);
      clock.advance(31);
      clock.clearInterval(iv);
      clock.advance(100);
      assert.deepEqual(seen, [['a', 1010], ['i', 1015], ['b', 1020], ['i', 1030]]);
      assert.equal(clock.now(), 1131);
      assert.equal(clock.pending, 0);
    });
    it('tells how far off each pending timer is', function () {
      const clock = new FakeClock(500);
      clock.setTimeout(() => undefined, 15000);
      const t = clock.setTimeout(() => undefined, 3000);
      clock.setInterval(() => undefined, 1000);
      assert.deepEqual(clock.dueIn(), [1000, 3000, 15000]);
      clock.advance(1500);
      assert.deepEqual(clock.dueIn(), [500, 1500, 13500]);
      clock.clearTimeout(t);
      assert.deepEqual(clock.dueIn(), [500, 13500]);
    });
    it('lets a timer schedule another inside the same advance', function () {
      const clock = new FakeClock();
      const seen: number[] = [];
      clock.setTimeout(() => {
        seen.push(clock.now());
        clock.setTimeout(() => seen.push(clock.now()), 5);
      }, 5);
      clock.advance(10);
      assert.deepEqual(seen, [5, 10]);
    });
    it('the system clock is real time', function () {
      assert.ok(Math.abs(systemClock.now() - Date.now()) < 1000);
    });
  });
});
