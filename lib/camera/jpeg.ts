/**
 * JPEG parsing a frame source needs beyond lib/common/jpeg.ts (which tells whether a buffer is a
 * JPEG and how big it is, shared with the detector and the recorder): where each JPEG ends in a
 * byte stream of concatenated JPEGs.
 */

/**
 * The end (exclusive) of the JPEG that starts at `start`, found by walking its segments
 * and then the entropy-coded data up to EOI; -1 when the buffer holds no complete JPEG.
 * Walking segments (rather than searching for FF D9) skips EXIF thumbnails.
 */
export function jpegEnd(buf: Buffer, start = 0): number {
  if (buf.length < start + 4 || buf[start] !== 0xff || buf[start + 1] !== 0xd8) return -1;
  let i = start + 2;
  for (;;) {
    if (i + 2 > buf.length) return -1;
    if (buf[i] !== 0xff) return -1;
    const marker = buf[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd9) return i + 2;
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    if (i + 4 > buf.length) return -1;
    const len = buf.readUInt16BE(i + 2);
    i += 2 + len;
    if (marker === 0xda) {
      // Entropy-coded data: FF 00 is a stuffed byte and FF D0..D7 are restarts; any other marker ends the scan.
      for (;;) {
        const j = buf.indexOf(0xff, i);
        if (j < 0 || j + 1 >= buf.length) return -1;
        const m = buf[j + 1];
        if (m === 0x00 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) {
          i = m === 0xff ? j + 1 : j + 2;
          continue;
        }
        i = j;
        break;
      }
    }
  }
}

/** Split concatenated JPEGs (a raw `.mjpeg` file, ffmpeg's `-f mjpeg`); junk between them is skipped. */
export function splitJpegs(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const s = buf.indexOf(Buffer.from([0xff, 0xd8, 0xff]), i);
    if (s < 0) break;
    const e = jpegEnd(buf, s);
    if (e < 0) break;
    out.push(buf.subarray(s, e));
    i = e;
  }
  return out;
}
