/**
 * Framer, delimiter mode: several delimiters (the Isotel "\r\n\r\n" / "\n\n" pair), the
 * allocation-free `onRange` callback, and a delimiter split across an oversize drop.
 */
import assert from 'node:assert/strict';
import { Framer } from '../../../lib/common/framer';

function run(chunks: string[], opts: { max?: number; range?: boolean } = {}): { out: string[]; over: number[] } {
  const out: string[] = [];
  const over: number[] = [];
  const f = new Framer({
    mode: 'delimiter',
    delimiters: ['\r\n\r\n', '\n\n'],
    maxMessageBytes: opts.max,
    onMessage: opts.range ? undefined : (m) => out.push(m.toString()),
    onRange: opts.range ? (b, s, e) => out.push(b.toString('utf8', s, e)) : undefined,
    onOversize: (n) => over.push(n),
  });
  for (const c of chunks) f.push(Buffer.from(c));
  return { out, over };
}

describe('framer: several delimiters, onRange', () => {
  it('splits on the earliest delimiter, the longer one winning a tie, across any chunking', () => {
    const stream = 'a\n\nb\r\n\r\nc\r\n\nd\n\r\n\r\ne\n\n';
    const expected = ['a', 'b', 'c\r', 'd\n', 'e'];
    for (const range of [false, true]) {
      assert.deepEqual(run([stream], { range }).out, expected);
      assert.deepEqual(run(stream.split(''), { range }).out, expected);
      for (let cut = 1; cut < stream.length; cut++) {
        assert.deepEqual(run([stream.slice(0, cut), stream.slice(cut)], { range }).out, expected, `cut at ${cut}`);
      }
    }
  });

  it('many messages in one chunk with one delimiter absent (no rescans)', () => {
    const n = 20000;
    const { out } = run(['SIGNAL /x 1\n\n'.repeat(n)], { range: true });
    assert.equal(out.length, n);
  });

  it('keeps a delimiter that starts inside an oversize message and ends in the next chunk', () => {
    const { out, over } = run(['x'.repeat(40) + '\r\n\r', '\nnext\n\n'], { max: 16 });
    assert.equal(over.length, 1);
    assert.deepEqual(out, ['next']);
  });

  it('onRange honours the size cap like onMessage', () => {
    assert.deepEqual(run(['0123456789abcdefXYZ\n\nok\n\n'], { max: 16, range: true }), { out: ['ok'], over: [19] });
  });
});
