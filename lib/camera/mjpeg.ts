/**
 * MJPEG over HTTP (`multipart/x-mixed-replace`): split the byte stream into JPEG frames.
 * The boundary comes from the Content-Type header (quoted or not, with or without the
 * leading `--` that some cameras put in the header); without one the first `--token` line
 * of the body is taken. Parts are split with the package's Framer, so a boundary split
 * across chunks and several parts in one chunk both work; `Content-Length` is honoured
 * when present and not needed when absent.
 */
import { Framer } from '../common/framer';
import { isJpeg } from '../common/jpeg';

/** The multipart boundary from a Content-Type value, or undefined. */
export function boundaryFromContentType(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const m = /boundary\s*=\s*(?:"([^"]+)"|([^;,\s]+))/i.exec(contentType);
  const b = m ? (m[1] ?? m[2]) : undefined;
  return b && b.length > 0 ? b : undefined;
}

export interface MjpegPart {
  headers: Record<string, string>;
  body: Buffer;
}

export interface MjpegParserOptions {
  /** From the Content-Type header; sniffed from the body when absent. */
  boundary?: string;
  /** Largest part accepted (default 32 MiB); a larger one is reported and skipped. */
  maxFrameBytes?: number;
  onFrame: (jpeg: Buffer, part: MjpegPart) => void;
  /** A part that is not a JPEG, a truncated part, an oversize part. The stream goes on. */
  onBadPart?: (reason: string) => void;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const LF2 = Buffer.from('\n\n');

export class MjpegParser {
  private framer?: Framer;
  private sniffBuf: Buffer = Buffer.alloc(0);
  private readonly opts: MjpegParserOptions;
  private readonly max: number;
  /** Frames and bad parts seen. */
  frames = 0;
  badParts = 0;

  constructor(opts: MjpegParserOptions) {
    this.opts = opts;
    this.max = opts.maxFrameBytes ?? 32 * 1024 * 1024;
    if (opts.boundary) this.framer = this.makeFramer(opts.boundary);
  }

  get boundary(): string | undefined {
    return this.framer ? this.boundaryValue : undefined;
  }

  private boundaryValue = '';

  private makeFramer(boundary: string): Framer {
    this.boundaryValue = boundary;
    const delimiters = [`--${boundary}`];
    // Some cameras put the dashes in the header too (boundary=--myboundary) and then use it as is.
    if (boundary.startsWith('--')) delimiters.push(boundary);
    return new Framer({
      mode: 'delimiter',
      delimiters,
      maxMessageBytes: this.max + 4096,
      onMessage: (m) => this.part(m),
      onOversize: (n) => this.bad(`part larger than ${this.max} bytes (${n}) skipped`),
    });
  }

  push(chunk: Buffer): void {
    if (this.framer) {
      this.framer.push(chunk);
      return;
    }
    // No boundary yet: find the first "--token" line.
    this.sniffBuf = this.sniffBuf.length ? Buffer.concat([this.sniffBuf, chunk]) : chunk;
    const text = this.sniffBuf.subarray(0, Math.min(this.sniffBuf.length, 1024)).toString('latin1');
    const m = /(^|\n)--([^\r\n]{1,200})\r?\n/.exec(text);
    if (!m) {
      if (this.sniffBuf.length > 4096) {
        this.bad('no multipart boundary found in the first 4 KiB');
        this.sniffBuf = Buffer.alloc(0);
      }
      return;
    }
    const buf = this.sniffBuf;
    this.sniffBuf = Buffer.alloc(0);
    this.framer = this.makeFramer(m[2].trim());
    this.framer.push(buf);
  }

  /** The stream ended: a complete last part without a closing boundary is still a frame. */
  end(): void {
    this.framer?.end();
  }

  private bad(reason: string): void {
    this.badParts++;
    this.opts.onBadPart?.(reason);
  }

  private part(raw: Buffer): void {
    // What follows a boundary: "\r\n" then headers, or "--" (the closing boundary).
    let p = raw;
    if (p[0] === 0x2d && p[1] === 0x2d) return; // closing boundary "--"
    // skip the rest of the boundary line (transport padding, CRLF)
    const nl = p.indexOf(0x0a);
    if (nl < 0) return;
    p = p.subarray(nl + 1);
    if (p.length === 0) return;
    // An empty header block: the blank line comes straight after the boundary line.
    if (p[0] === 0x0d && p[1] === 0x0a) p = p.subarray(2);
    else if (p[0] === 0x0a) p = p.subarray(1);
    // Headers end at the first blank line, looked for only in the first 8 KiB and only when
    // the part does not start straight away with a JPEG (whose bytes may contain "\n\n").
    const head = isJpeg(p) ? Buffer.alloc(0) : p.subarray(0, 8192);
    let headerEnd = head.indexOf(CRLF2);
    let sepLen = 4;
    const lf = head.indexOf(LF2);
    if (lf >= 0 && (headerEnd < 0 || lf < headerEnd)) {
      headerEnd = lf;
      sepLen = 2;
    }
    const headers: Record<string, string> = {};
    let body: Buffer;
    if (headerEnd < 0) {
      // No header block: maybe a bare JPEG right after the boundary line.
      body = p;
    } else {
      for (const line of p.subarray(0, headerEnd).toString('latin1').split(/\r?\n/)) {
        const c = line.indexOf(':');
        if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
      }
      body = p.subarray(headerEnd + sepLen);
    }
    const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : NaN;
    if (Number.isInteger(len) && len >= 0) {
      if (body.length < len) {
        this.bad(`truncated part: ${body.length} of ${len} bytes`);
        return;
      }
      body = body.subarray(0, len);
    } else {
      // Trim the CRLF that precedes the next boundary.
      let e = body.length;
      while (e > 0 && (body[e - 1] === 0x0a || body[e - 1] === 0x0d)) e--;
      body = body.subarray(0, e);
    }
    if (body.length === 0) return;
    if (!isJpeg(body)) {
      this.bad(`part is not a JPEG (${headers['content-type'] ?? 'no content-type'}, ${body.length} bytes)`);
      return;
    }
    this.frames++;
    this.opts.onFrame(body, { headers, body });
  }
}
