/**
 * Just enough JPEG header reading for anything that handles camera frames (the camera, the
 * detector, the recorder): is this a JPEG, and how big is it (from the SOF header, no decode).
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
