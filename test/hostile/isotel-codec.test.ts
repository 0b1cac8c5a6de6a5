/**
 * Hostile input for the Isotel codec (lib/isotel/codec.ts): random and adversarial bytes —
 * deep nesting in every body position, huge lengths, invalid UTF-8, stray terminators,
 * keyword look-alikes — decoded in random chunkings. Properties: nothing throws, every
 * decoded value is within the bounded reader's depth, chunking never changes the result,
 * an encoded message always decodes to exactly one message, and the loop is never held.
 */
import assert from 'node:assert/strict';
import { depthExceeds, DEFAULT_JSON_LIMITS } from '../../lib/common/json';
import { decode, encode, IsotelDecoder, MAX_MESSAGE_BYTES, parseBody, type IsotelMessage } from '../../lib/isotel/codec';
import { assertLoopDelay, deepArray, deepObject, prng, randomBytes, splitRandom, underAttack } from '../helpers/hostile';

const MAX_DEPTH = DEFAULT_JSON_LIMITS.maxDepth;

/** Every value a decoded message carries (bodies, SIGNAL data, HREPLY body). */
function values(m: IsotelMessage): unknown[] {
  switch (m.kind) {
    case 'signal':
      return [m.data];
    case 'hreply':
      return [m.reply.body];
    case 'invalid':
      return [m.text];
    default:
      return [m.body];
  }
}

function decodeAll(chunks: Buffer[], max?: number): { out: IsotelMessage[]; oversize: number[] } {
  const out: IsotelMessage[] = [];
  const oversize: number[] = [];
  const dec = new IsotelDecoder({ onMessage: (m) => out.push(m), onOversize: (n) => oversize.push(n), maxMessageBytes: max });
  for (const c of chunks) dec.push(c);
  return { out, oversize };
}

const KEYWORD_PREFIXES = ['', 'REPLY ', 'HREPLY ', 'IDENT ', 'STOP ', 'NOTIFY ', 'CONNECT /me/a ', 'DISCONNECT /me/a ', 'SIGNAL /me/a ', 'SIGNAL ', 'CONNECT\r\n'];
const PIECES = ['{', '}', '[', ']', '"', '\\', ':', ',', '1', 'true', 'null', ' ', '\n', '\r\n', '\n\n', '\r\n\r\n', 'a', '\u00e9', '\ud83d\ude00', 'status', '"status":200', '"body":'];

/** A random message text built from JSON-ish pieces, keyword prefixes and line breaks. */
function randomMessage(rnd: () => number): string {
  let s = KEYWORD_PREFIXES[Math.floor(rnd() * KEYWORD_PREFIXES.length)];
  const n = Math.floor(rnd() * 30);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(rnd() * PIECES.length)];
  return s;
}

describe('hostile: Isotel codec', () => {
  it('deep nesting in every body position is never built: each stays text (flagged), the rest of the stream decodes', () => {
    const deep = [deepArray(MAX_DEPTH + 1), deepArray(2000), deepObject(5000), deepArray(200_000), `{"a":${deepArray(1000)}}`];
    for (const d of deep) {
      for (const prefix of ['', 'REPLY ', 'IDENT ', 'NOTIFY ', 'CONNECT /me/x ', 'DISCONNECT /me/x ', 'SIGNAL /me/x ', 'HREPLY ']) {
        const m = decode(Buffer.from(prefix + d));
        for (const v of values(m)) assert.ok(!depthExceeds(v, MAX_DEPTH), `${prefix}${d.slice(0, 20)}…: a value deeper than ${MAX_DEPTH}`);
        if (m.kind !== 'invalid' && m.kind !== 'hreply') {
          assert.equal(typeof values(m)[0], 'string', `${prefix}: stays text`);
          assert.equal((m as { malformed?: boolean }).malformed, true);
          assert.match(String((m as { reason?: string }).reason), /nested too deeply/);
        }
      }
    }
    // An HREPLY whose body is deep: invalid, with the limit named.
    const h = decode(Buffer.from(`HREPLY {"status":200,"body":${deepArray(100)}}`));
    assert.equal(h.kind, 'invalid');
    assert.match((h as { reason: string }).reason, /nested too deeply/);
    // A deep message between two good ones: both good ones come through.
    const { out } = decodeAll([Buffer.from(`REPLY 1\n\n${deepArray(50_000)}\n\nREPLY 2\n\n`)]);
    assert.deepEqual(
      out.map((m) => (m.kind === 'reply' ? m.body : m.kind)),
      [1, 'request', 2],
    );
  });

  it('too many values, an over-long string, a huge number: text or a number, never an unbounded value', () => {
    const many = `[${'1,'.repeat(20_000)}1]`;
    const r1 = parseBody(many);
    assert.equal(typeof r1.body, 'string');
    assert.match(String(r1.reason), /too many values/);
    const long = `"${'x'.repeat(300 * 1024)}"`;
    const r2 = parseBody(long);
    assert.ok(r2.body === long);
    assert.match(String(r2.reason), /string too long/);
    assert.equal(parseBody('1e999999').body, Infinity, 'JSON.parse gives Infinity: a number, not a crash');
    const keys = `{${Array.from({ length: 12_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    assert.match(String(parseBody(keys).reason), /too many values/);
    // Prototype keys stay plain data.
    const proto = parseBody('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}').body as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(Object.prototype.hasOwnProperty.call(proto, '__proto__'));
  });

  it('random messages (JSON-ish pieces, keyword prefixes, stray terminators): never a throw, every value within depth, chunking changes nothing', () => {
    const rnd = prng(0x15073);
    for (let round = 0; round < 300; round++) {
      const text = Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => randomMessage(rnd)).join('\n\n') + '\n\n';
      const buf = Buffer.from(text);
      const whole = decodeAll([buf]);
      const split = decodeAll(splitRandom(buf, rnd));
      assert.deepEqual(split.out, whole.out, `round ${round}: chunking changed the result`);
      for (const m of whole.out) for (const v of values(m)) assert.ok(!depthExceeds(v, MAX_DEPTH));
    }
  });

  it('random bytes and invalid UTF-8: never a throw; a message larger than the cap is dropped and the next one decodes', () => {
    const rnd = prng(0xbad);
    for (let round = 0; round < 200; round++) {
      const noise = randomBytes(rnd, Math.floor(rnd() * 4096));
      const buf = Buffer.concat([noise, Buffer.from('\n\nREPLY {"ok":true}\n\n')]);
      const { out } = decodeAll(splitRandom(buf, rnd, 1024), 64 * 1024);
      assert.deepEqual(out[out.length - 1], { kind: 'reply', body: { ok: true } }, `round ${round}`);
    }
    // Invalid UTF-8 inside a JSON string and a URI: decoded with replacement characters.
    const bad = decode(Buffer.concat([Buffer.from('SIGNAL /me/\xff\xfe {"v":"'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc]), Buffer.from('"}')]));
    assert.equal(bad.kind, 'signal');
    // Over the cap: reported once, dropped, the next message decodes.
    const big = Buffer.alloc(MAX_MESSAGE_BYTES + 10, 0x5b); // '[' × (1 MiB + 10), no terminator
    const { out, oversize } = decodeAll([...splitRandom(big, rnd, 65536), Buffer.from('\n\nREPLY 7\n\n')]);
    assert.equal(oversize.length, 1);
    assert.deepEqual(out[out.length - 1], { kind: 'reply', body: 7 });
  });

  it('the encoder never lets a body carry a terminator: any text encodes to exactly one message', () => {
    const rnd = prng(0xe2c);
    for (let round = 0; round < 500; round++) {
      const text = Array.from({ length: Math.floor(rnd() * 12) }, () => PIECES[Math.floor(rnd() * PIECES.length)]).join('');
      for (const wire of [encode.reply(text), encode.signal('/me/a', text), encode.request(text), encode.hreply(200, 'text/plain\n\nX', text), encode.notify({ message: text, module: text })]) {
        const { out } = decodeAll([Buffer.from(wire)]);
        assert.equal(out.length, 1, `${JSON.stringify(text)} → ${JSON.stringify(wire)}`);
      }
    }
  });

  it('1 MiB of adversarial bodies decoded in socket-sized chunks keeps the loop free', async () => {
    const attack = [
      `${'{"a":'.repeat(200_000)}\n\n`, // unterminated deep object, ~1 MiB
      `${deepArray(300_000)}\n\n`,
      `SIGNAL /me/a [${'1,'.repeat(400_000)}1]\n\n`,
      `CONNECT /me/a "${'\\"'.repeat(400_000)}"\n\n`,
    ];
    for (const a of attack) {
      const buf = Buffer.from(a);
      const m = await underAttack(`isotel codec: ${buf.length} bytes of ${a.slice(0, 14)}…`, () => decodeAll(splitRandom(buf, prng(1), 65536), 2 * MAX_MESSAGE_BYTES));
      assert.equal(m.result.out.length, 1);
      for (const v of values(m.result.out[0])) assert.ok(!depthExceeds(v, MAX_DEPTH));
      assertLoopDelay(m);
    }
  });
});
