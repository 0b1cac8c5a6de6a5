/**
 * Hostile input for the MJPEG multipart parser (lib/camera/mjpeg.ts): what a hostile or broken
 * "camera" can send — random bytes, invalid UTF-8 in headers, missing / huge / negative /
 * non-numeric Content-Length, boundary tricks (split across chunks, sniffed, quoted, long, with
 * regex characters, inside the JPEG data), oversize parts, a huge part in socket-sized chunks.
 * Properties: nothing throws, every frame delivered is a JPEG, chunking never changes the
 * frames, a bad part is reported and the stream goes on, the loop is never held.
 */
import assert from 'node:assert/strict';
import { isJpeg } from '../../lib/common/jpeg';
import { boundaryFromContentType, MjpegParser, type MjpegParserOptions } from '../../lib/camera/mjpeg';
import { assertLoopDelay, prng, randomBytes, splitRandom, underAttack } from '../helpers/hostile';

/** A JPEG-shaped buffer (SOI … EOI) of `n` bytes, its middle random (may hold CR/LF and dashes). */
function fakeJpeg(rnd: () => number, n: number): Buffer {
  const b = randomBytes(rnd, Math.max(6, n));
  b[0] = 0xff;
  b[1] = 0xd8;
  b[2] = 0xff;
  b[b.length - 2] = 0xff;
  b[b.length - 1] = 0xd9;
  return b;
}

interface Seen {
  frames: Buffer[];
  bad: string[];
}

function parse(chunks: Buffer[], opts: Partial<MjpegParserOptions> = {}): Seen {
  const seen: Seen = { frames: [], bad: [] };
  const p = new MjpegParser({ ...opts, onFrame: (j) => seen.frames.push(Buffer.from(j)), onBadPart: (r) => seen.bad.push(r) });
  for (const c of chunks) p.push(c);
  p.end();
  for (const f of seen.frames) assert.ok(isJpeg(f), 'a frame that is not a JPEG was delivered');
  return seen;
}

/** One part: boundary line, headers, blank line, body, CRLF. */
function part(boundary: string, body: Buffer, headers: string[] = ['Content-Type: image/jpeg', `Content-Length: ${body.length}`], eol = '\r\n'): Buffer {
  return Buffer.concat([Buffer.from(`--${boundary}${eol}${headers.map((h) => h + eol).join('')}${eol}`, 'latin1'), body, Buffer.from(eol)]);
}

describe('hostile: MJPEG multipart parser', () => {
  it('random chunkings of a valid stream (CRLF or LF, with or without Content-Length, sniffed boundary) give the same frames', () => {
    const rnd = prng(0x3a1);
    for (let round = 0; round < 60; round++) {
      const boundary = ['myboundary', 'frame', '--dashes', 'a.b+c*d?(e)', 'x'.repeat(70)][round % 5];
      const eol = round % 2 ? '\r\n' : '\n';
      const jpegs = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => fakeJpeg(rnd, 20 + Math.floor(rnd() * 3000)));
      const withLength = round % 3 !== 0;
      const stream = Buffer.concat([
        ...jpegs.map((j) => part(boundary, j, withLength ? ['Content-Type: image/jpeg', `Content-Length: ${j.length}`] : ['Content-Type: image/jpeg'], eol)),
        Buffer.from(`--${boundary}--${eol}`),
      ]);
      const sniff = round % 4 === 0;
      const opts = sniff ? {} : { boundary };
      const whole = parse([stream], opts);
      const split = parse(splitRandom(stream, rnd, 257), opts);
      assert.equal(split.frames.length, whole.frames.length, `round ${round}: chunking changed the frame count`);
      split.frames.forEach((f, i) => assert.ok(f.equals(whole.frames[i]), `round ${round}: frame ${i} differs`));
      if (withLength) {
        // Without Content-Length a body that happens to end in CR/LF loses them (the parser
        // cannot tell them from the line break before the next boundary); with it, exact.
        assert.equal(whole.frames.length, jpegs.length, `round ${round}`);
        whole.frames.forEach((f, i) => assert.ok(f.equals(jpegs[i])));
      }
    }
  });

  it('Content-Length lies (huge, negative, not a number, exponent, larger than the part): reported or ignored, the next frame comes through', () => {
    const rnd = prng(0xc1);
    const good = fakeJpeg(rnd, 500);
    const lies = ['99999999999999999999', '1e3', '-5', 'abc', '12.5', '0x10', '', ' 4 ', String(Number.MAX_SAFE_INTEGER), '2000'];
    for (const lie of lies) {
      const j = fakeJpeg(rnd, 800);
      const stream = Buffer.concat([part('b', j, ['Content-Type: image/jpeg', `Content-Length: ${lie}`]), part('b', good), Buffer.from('--b--\r\n')]);
      const seen = parse(splitRandom(stream, rnd, 257), { boundary: 'b' });
      assert.ok(seen.frames.some((f) => f.equals(good)), `Content-Length ${JSON.stringify(lie)}: the next frame is lost`);
    }
    // Missing Content-Length altogether: frames still found.
    const seen = parse([part('b', good, ['Content-Type: image/jpeg']), part('b', good, [])], { boundary: 'b' });
    assert.equal(seen.frames.length, 2);
  });

  it('random bytes, invalid UTF-8 headers, garbage between parts, no boundary at all: no throw, only JPEGs out, bounded reports', () => {
    const rnd = prng(0x6a7);
    for (let round = 0; round < 150; round++) {
      const noise = randomBytes(rnd, Math.floor(rnd() * 6000));
      const header = Buffer.concat([Buffer.from('X-Junk: '), randomBytes(rnd, 200), Buffer.from('\r\nContent-Length: 300\r\n')]);
      const body = fakeJpeg(rnd, 300);
      const stream = Buffer.concat([noise, Buffer.from('\r\n--b\r\n'), header, Buffer.from('\r\n'), body, Buffer.from('\r\n'), noise, Buffer.from('\r\n--b--\r\n')]);
      parse(splitRandom(stream, rnd, 1500), { boundary: 'b' });
      parse(splitRandom(stream, rnd, 1500)); // sniffed
    }
    // 1 MiB without any boundary: a report per 4 KiB sniffed at most, nothing delivered.
    const none = parse(splitRandom(Buffer.alloc(1024 * 1024, 0x41), rnd, 65536));
    assert.equal(none.frames.length, 0);
    assert.ok(none.bad.length >= 1 && none.bad.length <= 1024 * 1024 / 4096 + 1, `${none.bad.length} reports`);
    assert.equal(boundaryFromContentType('multipart/x-mixed-replace; boundary="a;b"'), 'a;b');
    assert.equal(boundaryFromContentType('multipart/x-mixed-replace; boundary='), undefined);
    assert.equal(boundaryFromContentType(`multipart/x-mixed-replace; boundary=${'='.repeat(100_000)}`)?.length, 100_000);
  });

  it('boundary tricks: the boundary inside JPEG data, a boundary prefix, a closing boundary mid-stream — the stream goes on', () => {
    const rnd = prng(0xb0);
    const good = fakeJpeg(rnd, 400);
    const trick = Buffer.concat([good.subarray(0, 100), Buffer.from('\r\n--b\r\n'), good.subarray(100)]);
    const streams = [
      Buffer.concat([part('b', trick), part('b', good)]), // the boundary inside the data
      Buffer.concat([Buffer.from('--bb\r\n--b-\r\n'), part('b', good)]), // prefixes of the boundary
      Buffer.concat([part('b', good), Buffer.from('--b--\r\n'), part('b', good)]), // closing boundary, then more
      Buffer.concat([Buffer.from('--b'.repeat(10_000)), Buffer.from('\r\n'), part('b', good)]), // a run of boundaries
    ];
    for (const [i, s] of streams.entries()) {
      const seen = parse(splitRandom(s, rnd, 257), { boundary: 'b' });
      assert.ok(seen.frames.some((f) => f.equals(good)), `stream ${i}: the good frame after the trick is lost (${seen.bad.join('; ')})`);
    }
  });

  it('an oversize part is reported and skipped; the next frame comes through', () => {
    const rnd = prng(0x0f);
    const big = fakeJpeg(rnd, 300_000);
    const good = fakeJpeg(rnd, 1000);
    const seen = parse(splitRandom(Buffer.concat([part('b', big), part('b', good), Buffer.from('--b--\r\n')]), rnd, 65536), { boundary: 'b', maxFrameBytes: 100_000 });
    assert.ok(seen.bad.some((r) => /larger than 100000 bytes/.test(r)), seen.bad.join('; '));
    assert.equal(seen.frames.length, 1);
    assert.ok(seen.frames[0].equals(good));
  });

  it('a 16 MiB part in 64 KiB socket chunks: delivered, the loop stays free (each chunk its own turn)', async () => {
    const rnd = prng(0x16);
    const big = fakeJpeg(rnd, 16 * 1024 * 1024);
    // 16 MiB of random bytes hold "--b" about once: keep the boundary out of this one.
    for (let i = 3; i < big.length - 2; i++) if (big[i] === 0x2d) big[i] = 0x2e;
    const stream = Buffer.concat([part('b', big), Buffer.from('--b--\r\n')]);
    const m = await underAttack('mjpeg: one 16 MiB part in 64 KiB chunks', async () => {
      const seen: Buffer[] = [];
      const p = new MjpegParser({ boundary: 'b', onFrame: (j) => seen.push(j) });
      for (let i = 0; i < stream.length; i += 65536) {
        p.push(stream.subarray(i, i + 65536));
        await new Promise((r) => setImmediate(r));
      }
      return seen;
    });
    assert.equal(m.result.length, 1);
    assert.ok(m.result[0].equals(big));
    assertLoopDelay(m);
  });
});
