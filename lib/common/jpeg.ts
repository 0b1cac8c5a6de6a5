/**
 * Just enough JPEG parsing for a frame source: is this a JPEG, how big is it (from the SOF
 * header, no decode), and where does each JPEG end in a byte stream of concatenated JPEGs.
 */

export interface JpegSize {
  width: number;
  height: number;
  /** Colour components (1 = greyscale, 3 = YCbCr). */
  components: number;
}

/** True when the buffer starts with the JPEG SOI marker (FF D8 FF). */
export function isJpeg(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
}

/** Width/height/components from the first SOFn segment, or undefined when there is none. */
export function jpegSize(buf: Buffer): JpegSize | undefined {
  if (!isJpeg(buf)) return undefined;
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) return undefined;
    let marker = buf[i + 1];
    while (marker === 0xff && i + 2 < buf.length) {
      i++; // fill bytes
      marker = buf[i + 1];
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // EOI / SOS before any SOF
    const len = buf.readUInt16BE(i + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 10 > buf.length) return undefined;
      const height = buf.readUInt16BE(i + 5);
      const width = buf.readUInt16BE(i + 7);
      const components = buf[i + 9];
      if (width === 0 || height === 0) return undefined;
      return { width, height, components };
    }
    i += 2 + len;
  }
  return undefined;
}

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
