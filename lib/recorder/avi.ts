/**
 * MJPEG in AVI, written in TypeScript (no ffmpeg needed): the camera's JPEGs go into the file
 * as they are, so recording costs disk writes only. Layout (RIFF AVI 1.0, one video stream):
 *
 *   RIFF 'AVI '
 *     LIST 'hdrl'  avih (56 bytes) · LIST 'strl' ( strh (56) · strf BITMAPINFOHEADER (40) )
 *     LIST 'movi'  '00dc' <jpeg> [pad byte] …
 *     idx1         16 bytes per frame: '00dc', AVIIF_KEYFRAME, offset from the 'movi' fourcc, size
 *
 * The header is written first with placeholders and rewritten in place when the clip is
 * complete (frame count, sizes, rate). A clip is kept well under the 2 GiB that players
 * reading sizes as signed 32-bit numbers accept.
 */
import fs from 'node:fs';
import { jpegSize } from '../common/jpeg';
import { QueuedWriter, type ClipWriterOptions } from './writer';

const HEADER_BYTES = 224;
/** Offset of the 'movi' fourcc (idx1 offsets count from it). */
const MOVI_FOURCC_AT = 220;
/** Largest RIFF size written (players read sizes as signed 32-bit numbers). */
export const AVI_MAX_BYTES = 2 ** 31 - 1024 * 1024;
const AVIF_HASINDEX = 0x10;
const AVIIF_KEYFRAME = 0x10;

function fourcc(buf: Buffer, at: number, s: string): void {
  buf.write(s, at, 4, 'latin1');
}

interface AviHeader {
  width: number;
  height: number;
  rate: number;
  frames: number;
  maxFrameBytes: number;
  moviBytes: number;
  fileBytes: number;
}

/** The 224 bytes from 'RIFF' to the 'movi' list's first chunk. */
export function aviHeader(h: AviHeader): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  const scale = 1000;
  const rate = Math.max(1, Math.round(h.rate * scale));
  const usPerFrame = Math.round(1e6 / h.rate);
  fourcc(b, 0, 'RIFF');
  b.writeUInt32LE(h.fileBytes - 8, 4);
  fourcc(b, 8, 'AVI ');
  fourcc(b, 12, 'LIST');
  b.writeUInt32LE(192, 16); // 'hdrl' + avih (64) + the strl list (124)
  fourcc(b, 20, 'hdrl');
  // avih: MainAVIHeader
  fourcc(b, 24, 'avih');
  b.writeUInt32LE(56, 28);
  b.writeUInt32LE(usPerFrame, 32); // dwMicroSecPerFrame
  b.writeUInt32LE(Math.min(0xffffffff, Math.round(h.maxFrameBytes * h.rate)), 36); // dwMaxBytesPerSec
  b.writeUInt32LE(0, 40); // dwPaddingGranularity
  b.writeUInt32LE(AVIF_HASINDEX, 44); // dwFlags
  b.writeUInt32LE(h.frames, 48); // dwTotalFrames
  b.writeUInt32LE(0, 52); // dwInitialFrames
  b.writeUInt32LE(1, 56); // dwStreams
  b.writeUInt32LE(h.maxFrameBytes + 8, 60); // dwSuggestedBufferSize
  b.writeUInt32LE(h.width, 64);
  b.writeUInt32LE(h.height, 68);
  // 72..87 dwReserved[4]
  fourcc(b, 88, 'LIST');
  b.writeUInt32LE(116, 92); // 'strl' + strh (64) + strf (48)
  fourcc(b, 96, 'strl');
  // strh: AVIStreamHeader
  fourcc(b, 100, 'strh');
  b.writeUInt32LE(56, 104);
  fourcc(b, 108, 'vids');
  fourcc(b, 112, 'MJPG');
  b.writeUInt32LE(0, 116); // dwFlags
  b.writeUInt16LE(0, 120); // wPriority
  b.writeUInt16LE(0, 122); // wLanguage
  b.writeUInt32LE(0, 124); // dwInitialFrames
  b.writeUInt32LE(scale, 128); // dwScale
  b.writeUInt32LE(rate, 132); // dwRate (frames per second = rate / scale)
  b.writeUInt32LE(0, 136); // dwStart
  b.writeUInt32LE(h.frames, 140); // dwLength
  b.writeUInt32LE(h.maxFrameBytes + 8, 144); // dwSuggestedBufferSize
  b.writeInt32LE(-1, 148); // dwQuality
  b.writeUInt32LE(0, 152); // dwSampleSize
  b.writeInt16LE(0, 156); // rcFrame
  b.writeInt16LE(0, 158);
  b.writeInt16LE(Math.min(32767, h.width), 160);
  b.writeInt16LE(Math.min(32767, h.height), 162);
  // strf: BITMAPINFOHEADER
  fourcc(b, 164, 'strf');
  b.writeUInt32LE(40, 168);
  b.writeUInt32LE(40, 172); // biSize
  b.writeInt32LE(h.width, 176);
  b.writeInt32LE(h.height, 180);
  b.writeUInt16LE(1, 184); // biPlanes
  b.writeUInt16LE(24, 186); // biBitCount
  fourcc(b, 188, 'MJPG'); // biCompression
  b.writeUInt32LE(Math.min(0xffffffff, h.width * h.height * 3), 192); // biSizeImage
  // 196..211: pels per metre, colours used/important = 0
  fourcc(b, 212, 'LIST');
  b.writeUInt32LE(h.moviBytes + 4, 216); // 'movi' + the frame chunks
  fourcc(b, MOVI_FOURCC_AT, 'movi');
  return b;
}

/** Streams MJPEG frames into an AVI file (see the file comment). */
export class AviWriter extends QueuedWriter {
  readonly format = 'avi' as const;
  private fh?: fs.promises.FileHandle;
  private opening?: Promise<fs.promises.FileHandle>;
  /** Per frame: offset of its chunk from the 'movi' fourcc, and its size. */
  private index: number[] = [];
  private moviBytes = 0;
  private maxFrame = 0;
  private width = 0;
  private height = 0;
  private readonly pad = Buffer.alloc(1);

  constructor(opts: ClipWriterOptions) {
    super(opts);
  }

  private open(): Promise<fs.promises.FileHandle> {
    if (!this.opening) {
      this.opening = fs.promises.open(this.path, 'wx').then(async (fh) => {
        this.fh = fh;
        // Placeholder header; rewritten with the real numbers by complete().
        await fh.write(aviHeader({ width: 0, height: 0, rate: this.rate, frames: 0, maxFrameBytes: 0, moviBytes: 0, fileBytes: HEADER_BYTES }), 0, HEADER_BYTES, 0);
        return fh;
      });
    }
    return this.opening;
  }

  protected async sink(batch: Buffer[]): Promise<void> {
    const fh = await this.open();
    if (this.width === 0) {
      const size = jpegSize(batch[0]);
      if (size) {
        this.width = size.width;
        this.height = size.height;
      }
    }
    const iov: Buffer[] = [];
    let bytes = 0;
    for (const jpeg of batch) {
      const chunk = 8 + jpeg.length + (jpeg.length & 1);
      if (HEADER_BYTES + this.moviBytes + bytes + chunk + 16 * (this.index.length / 2 + 1) > AVI_MAX_BYTES) {
        throw new Error(`the clip reached the AVI size limit (${Math.floor(AVI_MAX_BYTES / 2 ** 20)} MiB)`);
      }
      const hdr = Buffer.allocUnsafe(8);
      fourcc(hdr, 0, '00dc');
      hdr.writeUInt32LE(jpeg.length, 4);
      iov.push(hdr, jpeg);
      if (jpeg.length & 1) iov.push(this.pad);
      this.index.push(4 + this.moviBytes + bytes, jpeg.length);
      bytes += chunk;
      if (jpeg.length > this.maxFrame) this.maxFrame = jpeg.length;
    }
    const position = HEADER_BYTES + this.moviBytes;
    const { bytesWritten } = await fh.writev(iov, position);
    if (bytesWritten !== bytes) throw new Error(`short write (${bytesWritten} of ${bytes} bytes): is the disk full?`);
    this.moviBytes += bytes;
  }

  protected async complete(): Promise<number> {
    const fh = await this.open();
    const frames = this.index.length / 2;
    const idx = Buffer.alloc(8 + 16 * frames);
    fourcc(idx, 0, 'idx1');
    idx.writeUInt32LE(16 * frames, 4);
    for (let i = 0; i < frames; i++) {
      const at = 8 + 16 * i;
      fourcc(idx, at, '00dc');
      idx.writeUInt32LE(AVIIF_KEYFRAME, at + 4);
      idx.writeUInt32LE(this.index[2 * i], at + 8);
      idx.writeUInt32LE(this.index[2 * i + 1], at + 12);
    }
    const fileBytes = HEADER_BYTES + this.moviBytes + idx.length;
    const written = await fh.write(idx, 0, idx.length, HEADER_BYTES + this.moviBytes);
    if (written.bytesWritten !== idx.length) throw new Error('short write of the index: is the disk full?');
    const header = aviHeader({ width: this.width, height: this.height, rate: this.rate, frames, maxFrameBytes: this.maxFrame, moviBytes: this.moviBytes, fileBytes });
    await fh.write(header, 0, header.length, 0);
    // The clip is kept: make it durable before it is renamed into the list.
    await fh.sync();
    await fh.close();
    this.fh = undefined;
    return fileBytes;
  }

  protected async stop(): Promise<void> {
    const fh = this.fh ?? (await this.opening?.catch(() => undefined));
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }
}

export interface VideoInfo {
  durationS: number;
  frames: number;
  width: number;
  height: number;
}

/** Duration, frame count and size from an AVI's header (the first 4 KiB), or undefined. */
export function parseAviHeader(buf: Buffer): VideoInfo | undefined {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'AVI ') return undefined;
  let info: VideoInfo | undefined;
  let frames = 0;
  // Walk chunks, descending into LISTs, until the first video stream header.
  const walk = (from: number, to: number): void => {
    let i = from;
    while (i + 8 <= to && !info) {
      const id = buf.toString('latin1', i, i + 4);
      const size = buf.readUInt32LE(i + 4);
      const body = i + 8;
      if (id === 'LIST') {
        if (body + 4 > to) return;
        const kind = buf.toString('latin1', body, body + 4);
        if (kind === 'movi') return;
        walk(body + 4, Math.min(to, body + size));
      } else if (id === 'avih' && body + 40 <= to) {
        frames = buf.readUInt32LE(body + 16);
      } else if (id === 'strh' && body + 40 <= to && buf.toString('latin1', body, body + 4) === 'vids') {
        const scale = buf.readUInt32LE(body + 20);
        const rate = buf.readUInt32LE(body + 24);
        const length = buf.readUInt32LE(body + 32) || frames;
        const width = buf.readInt16LE(body + 52) - buf.readInt16LE(body + 48);
        const height = buf.readInt16LE(body + 54) - buf.readInt16LE(body + 50);
        if (rate > 0 && scale > 0) info = { durationS: (length * scale) / rate, frames: length, width, height };
      }
      i = body + size + (size & 1);
    }
  };
  walk(12, buf.length);
  return info;
}
