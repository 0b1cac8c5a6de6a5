/**
 * Framer growth is linear: an unfinished message is kept as its chunks and concatenated
 * once. Counted in bytes copied by Buffer.concat (never in time): before the chunk list,
 * every chunk re-copied everything buffered, so a 4 MiB message in 4 KiB chunks copied
 * about 2 GiB.
 */
import assert from 'node:assert/strict';
import { Framer, type FramerMode } from '../../../lib/common/framer';
import { MjpegParser } from '../../../lib/camera/mjpeg';

/** Run `fn` counting the bytes Buffer.concat produces. */
function copiedBy(fn: () => void): number {
  const original = Buffer.concat;
  let copied = 0;
  Buffer.concat = function (list: readonly Uint8Array[], totalLength?: number): Buffer {
    const out = original.call(Buffer, list, totalLength);
    copied += out.length;
    return out;
  } as typeof Buffer.concat;
  try {
    fn();
  } finally {
    Buffer.concat = original;
  }
  return copied;
}

/** A buffer that passes for a JPEG (SOI … EOI) with `fill` in between. */
function fakeJpeg(size: number, fill: number): Buffer {
  const jpeg = Buffer.alloc(size, fill);
  jpeg[0] = 0xff;
  jpeg[1] = 0xd8;
  jpeg[2] = 0xff;
  jpeg[size - 2] = 0xff;
  jpeg[size - 1] = 0xd9;
  return jpeg;
}

const SIZE = 4 * 1024 * 1024;
const CHUNK = 4096;

function feed(framer: { push(b: Buffer): void }, data: Buffer, chunk = CHUNK): void {
  for (let at = 0; at < data.length; at += chunk) framer.push(data.subarray(at, at + chunk));
}

describe('framer: linear buffering (chunk list, one concatenation)', () => {
  const cases: Array<{ mode: FramerMode; body: Buffer; delimiters?: string[] }> = [
    { mode: 'delimiter', body: Buffer.concat([Buffer.alloc(SIZE, 0x61), Buffer.from('\r\n')]), delimiters: ['\r\n', '\n'] },
    { mode: 'json', body: Buffer.from(`{"a":"${'x'.repeat(SIZE)}"}`) },
    { mode: 'close', body: Buffer.alloc(SIZE, 0x62) },
  ];
  for (const c of cases) {
    it(`${c.mode}: a ${SIZE >> 20} MiB message in ${CHUNK} B chunks copies it about once`, () => {
      const got: Buffer[] = [];
      const f = new Framer({ mode: c.mode, delimiters: c.delimiters, maxMessageBytes: 2 * SIZE, onMessage: (m) => got.push(m) });
      const copied = copiedBy(() => {
        feed(f, c.body);
        f.end();
      });
      assert.equal(got.length, 1);
      assert.ok(got[0].length >= SIZE);
      assert.ok(copied <= 2 * c.body.length, `copied ${copied} bytes for a ${c.body.length}-byte message`);
    });
  }

  it('delimiter: a delimiter split across the joint of two chunks is still found without extra copies', () => {
    const out: string[] = [];
    const f = new Framer({ mode: 'delimiter', delimiters: ['\r\n\r\n'], maxMessageBytes: 1 << 20, onMessage: (m) => out.push(m.toString()) });
    const copied = copiedBy(() => {
      for (const piece of ['ab', 'cd', 'ef\r', '\n\r', '\nnext', '\r\n\r\n']) f.push(Buffer.from(piece));
    });
    assert.deepEqual(out, ['abcdef', 'next']);
    assert.ok(copied < 64, `copied ${copied}`);
  });

  it('an oversize message is dropped without copying what was buffered', () => {
    const over: number[] = [];
    const out: string[] = [];
    const f = new Framer({ mode: 'delimiter', maxMessageBytes: 1 << 20, onMessage: (m) => out.push(m.toString()), onOversize: (n) => over.push(n) });
    const copied = copiedBy(() => {
      feed(f, Buffer.alloc(SIZE, 0x63));
      f.push(Buffer.from('\nok\n'));
    });
    assert.equal(over.length, 1);
    assert.deepEqual(out, ['ok']);
    assert.ok(copied <= (1 << 20) + 2 * CHUNK + 64, `copied ${copied}`);
  });

  it('MJPEG: parts that each arrive in one chunk, the next boundary opening the next chunk, are not copied at all', () => {
    const jpeg = fakeJpeg(48 * 1024, 0x22);
    const part = Buffer.concat([Buffer.from(`--vigilframe\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`), jpeg, Buffer.from('\r\n')]);
    const frames: Buffer[] = [];
    const parser = new MjpegParser({ boundary: 'vigilframe', onFrame: (f) => frames.push(f) });
    const copied = copiedBy(() => {
      for (let i = 0; i < 100; i++) parser.push(Buffer.from(part));
    });
    assert.equal(frames.length, 99);
    assert.ok(frames.every((f) => f.equals(jpeg)));
    // only the joint checks: at most 2 × (boundary length − 1) bytes a chunk
    assert.ok(copied <= 100 * 2 * 13, `copied ${copied} bytes for 99 frames`);
  });

  it('MJPEG: a 32 MiB part in 64 KiB chunks is copied about once', () => {
    const jpeg = fakeJpeg(32 * 1024 * 1024 - 64 * 1024, 0x11);
    const stream = Buffer.concat([Buffer.from(`--b\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`), jpeg, Buffer.from('\r\n--b\r\n')]);
    let frames = 0;
    const parser = new MjpegParser({ boundary: 'b', onFrame: () => frames++ });
    const copied = copiedBy(() => feed(parser, stream, 64 * 1024));
    assert.equal(frames, 1);
    assert.ok(copied <= 2 * stream.length, `copied ${copied} bytes for a ${stream.length}-byte stream`);
  });
});
