import assert from 'node:assert/strict';
import http from 'node:http';
import { jpegEnd, splitJpegs } from '../../../lib/camera/jpeg';
import { jpegSize } from '../../../lib/common/jpeg';
import { MjpegParser, boundaryFromContentType } from '../../../lib/camera/mjpeg';
import { startCameraSim } from '../../../lib/camera/sim';
import { clip } from '../../helpers/clips';

/** Capture `ms` of a real multipart HTTP response: its Content-Type and raw body bytes. */
function capture(url: string, minBytes: number): Promise<{ contentType: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        n += c.length;
        if (n >= minBytes) {
          req.destroy();
          resolve({ contentType: String(res.headers['content-type']), body: Buffer.concat(chunks) });
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (e) => {
      if (!req.destroyed) reject(e);
    });
  });
}

function parseIn(body: Buffer, boundary: string | undefined, chunkSizes: (i: number) => number): { frames: Buffer[]; bad: string[] } {
  const frames: Buffer[] = [];
  const bad: string[] = [];
  const p = new MjpegParser({ boundary, onFrame: (f) => frames.push(f), onBadPart: (r) => bad.push(r) });
  let off = 0;
  for (let i = 0; off < body.length; i++) {
    const n = Math.max(1, chunkSizes(i));
    p.push(body.subarray(off, off + n));
    off += n;
  }
  return { frames, bad };
}

describe('MJPEG multipart parser', function () {
  this.timeout(30000);

  it('reads the boundary from Content-Type in its usual spellings', () => {
    assert.equal(boundaryFromContentType('multipart/x-mixed-replace; boundary=myboundary'), 'myboundary');
    assert.equal(boundaryFromContentType('multipart/x-mixed-replace;boundary="--my b"'), '--my b');
    assert.equal(boundaryFromContentType('multipart/x-mixed-replace; Boundary=--frame; charset=x'), '--frame');
    assert.equal(boundaryFromContentType('image/jpeg'), undefined);
    assert.equal(boundaryFromContentType(undefined), undefined);
  });

  for (const noContentLength of [false, true]) {
    it(`splits a real multipart HTTP response in any chunking (${noContentLength ? 'no ' : ''}Content-Length)`, async () => {
      const frames = (await clip('moving')).slice(0, 6);
      const sim = await startCameraSim({ frames, fps: 50, noContentLength });
      try {
        const { contentType, body } = await capture(`${sim.url}/stream.mjpg`, frames.reduce((a, f) => a + f.length, 0) * 2);
        const boundary = boundaryFromContentType(contentType);
        assert.equal(boundary, 'vigilframe');
        const whole = parseIn(body, boundary, () => body.length);
        assert.ok(whole.frames.length >= 6, `got ${whole.frames.length}`);
        for (const f of whole.frames) {
          assert.ok(frames.some((x) => x.equals(f)), 'each frame is byte-identical to one served');
          assert.equal(f[f.length - 2], 0xff);
          assert.equal(f[f.length - 1], 0xd9);
        }
        const expected = whole.frames.map((f) => f.length);
        // one byte at a time is slow on big bodies: use the first two parts for it
        const two = body.subarray(0, body.indexOf('--vigilframe', body.indexOf('--vigilframe', 20) + 5) + 5);
        assert.equal(parseIn(two, boundary, () => 1).frames.length, 1, 'byte by byte: the first part is complete once the second boundary begins');
        for (const size of [7, 13, 1000, 4096, 65536]) {
          assert.deepEqual(parseIn(body, boundary, () => size).frames.map((f) => f.length), expected, `chunks of ${size}`);
        }
        let seed = 42;
        const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 9000;
        assert.deepEqual(parseIn(body, boundary, rnd).frames.map((f) => f.length), expected, 'random chunks');
        // every split point around the first boundary after the first frame
        const at = body.indexOf('--vigilframe', 10);
        for (let cut = at - 3; cut <= at + 14; cut++) {
          const p = parseIn(body, boundary, (i) => (i === 0 ? cut : body.length));
          assert.deepEqual(p.frames.map((f) => f.length), expected, `split at ${cut}`);
        }
        // no boundary given: sniffed from the body
        assert.deepEqual(parseIn(body, undefined, () => 777).frames.map((f) => f.length), expected, 'sniffed boundary');
      } finally {
        await sim.close();
      }
    });
  }

  it('tolerates LF-only headers, "--" in the header boundary, and reports non-JPEG parts', () => {
    const j = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2, 0xff, 0xd9]);
    const body = Buffer.concat([
      Buffer.from('--xx\nContent-Type: image/jpeg\n\n'),
      j,
      Buffer.from('\n--xx\r\nContent-Type: text/plain\r\n\r\nhello\r\n--xx\r\n'),
      j,
      Buffer.from('\r\n--xx--\r\n'),
    ]);
    const r = parseIn(body, 'xx', () => 5);
    assert.equal(r.frames.length, 2, 'a part without headers is a frame too');
    assert.equal(r.bad.length, 1);
    assert.match(r.bad[0], /not a JPEG/);
    const dashed = parseIn(Buffer.concat([Buffer.from('--frame\r\n\r\n'), j, Buffer.from('\r\n--frame\r\n')]), '--frame', () => 3);
    assert.equal(dashed.frames.length, 1);
    const short = parseIn(Buffer.concat([Buffer.from('--b\r\nContent-Length: 99\r\n\r\n'), j, Buffer.from('\r\n--b\r\n')]), 'b', () => 100);
    assert.equal(short.frames.length, 0);
    assert.match(short.bad[0], /truncated/);
  });

  it('JPEG helpers: size from SOF, end by walking segments, splitting back-to-back JPEGs', async () => {
    const frames = (await clip('still', { width: 320, height: 240, frames: 3 })).slice(0, 3);
    assert.deepEqual(jpegSize(frames[0]), { width: 320, height: 240, components: 3 });
    assert.equal(jpegEnd(frames[0]), frames[0].length);
    assert.equal(jpegEnd(frames[0].subarray(0, 500)), -1);
    const joined = Buffer.concat([Buffer.from('junk'), frames[0], frames[1], Buffer.from('\r\n'), frames[2]]);
    assert.deepEqual(splitJpegs(joined).map((f) => f.length), frames.map((f) => f.length));
    assert.equal(jpegSize(Buffer.from('not a jpeg')), undefined);
  });
});
