/**
 * The one byte-stream framer of the package. Feed it chunks as they arrive; it calls
 * `onMessage` with every complete message and keeps the tail for the next chunk.
 *
 * Modes:
 * - `delimiter`: messages end with one of `delimiters` (longest match wins where two
 *   could end at the same place, e.g. "\r\n" before "\n"). Empty messages are skipped
 *   unless `keepEmpty`.
 * - `json`: back-to-back JSON objects/arrays with no separator; whitespace between them
 *   is skipped. Brace depth is tracked outside strings, escapes honoured.
 * - `close`: everything until `end()` is one message.
 *
 * A message (or an unterminated tail) longer than `maxMessageBytes` is reported through
 * `onOversize` and the framer discards input until the next delimiter (or, for `json`,
 * resets). Memory is bounded by `maxMessageBytes` plus one chunk.
 */
export type FramerMode = 'delimiter' | 'json' | 'close';

export interface FramerOptions {
  mode: FramerMode;
  delimiters?: Array<string | Buffer>;
  maxMessageBytes?: number;
  keepEmpty?: boolean;
  onMessage?: (message: Buffer) => void;
  /**
   * delimiter mode, optional: called instead of `onMessage` with the message's place in a
   * buffer (`buf[start..end)`), saving a Buffer view per message on hot paths. The buffer
   * is only valid during the call.
   */
  onRange?: (buf: Buffer, start: number, end: number) => void;
  /** Called once per oversize message with the number of bytes seen so far. */
  onOversize?: (bytes: number) => void;
  /** json mode: bytes that cannot start a JSON value (reported, then skipped up to the next `{`/`[`). */
  onGarbage?: (bytes: Buffer) => void;
}

export class Framer {
  private readonly mode: FramerMode;
  private readonly delims: Buffer[];
  private readonly max: number;
  private readonly keepEmpty: boolean;
  private readonly opts: FramerOptions;
  private buf: Buffer = Buffer.alloc(0);
  /** Discarding the rest of an oversize message until the next delimiter. */
  private skipping = false;
  // json-mode scanner state, kept across chunks so each byte is scanned once
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;
  // delimiter-mode scanner state
  private readonly maxDelim: number;
  private readonly delimPos: number[];
  private searchFrom = 0;

  constructor(opts: FramerOptions) {
    this.opts = opts;
    this.mode = opts.mode;
    this.max = opts.maxMessageBytes ?? 65536;
    this.keepEmpty = opts.keepEmpty ?? false;
    const delims = (opts.delimiters ?? ['\n']).map((d) => (typeof d === 'string' ? Buffer.from(d, 'utf8') : d));
    if (this.mode === 'delimiter' && (delims.length === 0 || delims.some((d) => d.length === 0))) {
      throw new RangeError('framer: delimiter mode needs at least one non-empty delimiter');
    }
    // Longest first, so "\r\n" wins over "\n" when both end at the same index.
    this.delims = delims.sort((a, b) => b.length - a.length);
    this.maxDelim = Math.max(1, ...this.delims.map((d) => d.length));
    this.delimPos = new Array<number>(this.delims.length).fill(-2);
  }

  /** Bytes currently buffered (an unfinished message). */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.mode === 'delimiter') this.drainDelimited();
    else if (this.mode === 'json') this.drainJson();
    else if (this.buf.length > this.max) this.oversize();
  }

  /** The stream ended: in `close` mode the buffer is the message; otherwise a non-empty tail is emitted too. */
  end(): void {
    const rest = this.buf;
    this.reset();
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    if (this.mode === 'json') {
      const text = rest.toString('utf8').trim();
      if (text.length > 0) this.opts.onGarbage?.(rest);
      return;
    }
    if (rest.length > 0 || (this.mode === 'close' && this.keepEmpty)) this.emit(rest);
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.scanned = 0;
    this.searchFrom = 0;
  }

  private emit(message: Buffer): void {
    if (message.length === 0 && !this.keepEmpty) return;
    if (message.length > this.max) {
      this.opts.onOversize?.(message.length);
      return;
    }
    this.opts.onMessage?.(message);
  }

  private emitRange(buf: Buffer, start: number, end: number): void {
    const onRange = this.opts.onRange;
    if (!onRange) {
      this.emit(buf.subarray(start, end));
      return;
    }
    const len = end - start;
    if (len === 0 && !this.keepEmpty) return;
    if (len > this.max) {
      this.opts.onOversize?.(len);
      return;
    }
    onRange(buf, start, end);
  }

  private oversize(): void {
    const n = this.buf.length;
    // Keep the last bytes in delimiter mode: they may be the start of a split delimiter.
    const tail = this.mode === 'delimiter' && this.maxDelim > 1 ? this.buf.subarray(Math.max(0, n - (this.maxDelim - 1))) : undefined;
    this.reset();
    if (tail) this.buf = tail;
    this.skipping = this.mode === 'delimiter';
    this.opts.onOversize?.(n);
  }

  private drainDelimited(): void {
    const buf = this.buf;
    const delims = this.delims;
    const n = delims.length;
    // Next known index of each delimiter (-1: none in the rest of this buffer). A position
    // found once is reused until consumed, so each delimiter scans the buffer at most once
    // per push however many messages the chunk holds (no O(n²) on a missing "\r\n\r\n").
    const pos = this.delimPos;
    for (let k = 0; k < n; k++) pos[k] = -2;
    let start = 0;
    let from = this.searchFrom;
    for (;;) {
      let best = -1;
      let bestLen = 0;
      for (let k = 0; k < n; k++) {
        let p = pos[k];
        if (p === -2 || (p >= 0 && p < from)) {
          p = indexOfDelimiter(buf, delims[k], from);
          pos[k] = p;
        }
        // Longest first in `delims`, so on a tie the longer delimiter wins.
        if (p >= 0 && (best < 0 || p < best)) {
          best = p;
          bestLen = delims[k].length;
        }
      }
      if (best < 0) break;
      if (this.skipping) this.skipping = false;
      else this.emitRange(buf, start, best);
      start = best + bestLen;
      from = start;
    }
    this.buf = start === 0 ? buf : buf.subarray(start);
    if (this.skipping) {
      // Keep only what could be the start of a delimiter split across chunks.
      const keep = this.maxDelim - 1;
      this.buf = keep > 0 ? this.buf.subarray(Math.max(0, this.buf.length - keep)) : Buffer.alloc(0);
      this.searchFrom = 0;
    } else if (this.buf.length > this.max) {
      this.oversize();
    } else {
      // The tail holds no delimiter: the next push only needs to look at its last bytes.
      this.searchFrom = Math.max(0, this.buf.length - (this.maxDelim - 1));
    }
  }

  private drainJson(): void {
    const b = this.buf;
    let start = 0;
    let i = this.scanned;
    // Skip whitespace/garbage before a value when not inside one.
    while (i < b.length) {
      if (this.depth === 0) {
        const c = b[i];
        if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
          if (i > start) {
            const junk = b.subarray(start, i);
            if (junk.toString('utf8').trim().length > 0) this.opts.onGarbage?.(junk);
          }
          start = i;
          this.depth = 1;
          i++;
          continue;
        }
        i++;
        continue;
      }
      const c = b[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
      } else if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          this.emit(b.subarray(start, i + 1));
          start = i + 1;
        }
      }
      i++;
    }
    if (this.depth === 0) {
      // Nothing open: anything left is whitespace or junk not yet followed by a value.
      const junk = b.subarray(start);
      if (junk.toString('utf8').trim().length > 0 && junk.length > this.max) {
        this.opts.onGarbage?.(junk);
        this.reset();
        return;
      }
      this.buf = junk.toString('utf8').trim().length === 0 ? Buffer.alloc(0) : junk;
      this.scanned = this.buf.length;
      // garbage retained is re-examined on the next chunk from its start
      if (this.buf.length > 0) this.scanned = 0;
      return;
    }
    this.buf = b.subarray(start);
    this.scanned = this.buf.length;
    if (this.buf.length > this.max) this.oversize();
  }
}

/**
 * `buf.indexOf(d, from)`, but searching for the delimiter's first byte and checking the
 * rest: several times faster than a Buffer-needle search for the short delimiters used
 * here ("\n", "\r\n", "\n\n", "\r\n\r\n").
 */
function indexOfDelimiter(buf: Buffer, d: Buffer, from: number): number {
  const n = d.length;
  if (n === 1) return buf.indexOf(d[0], from);
  const first = d[0];
  const last = buf.length - n;
  let i = from;
  for (;;) {
    i = buf.indexOf(first, i);
    if (i < 0 || i > last) return -1;
    let k = 1;
    while (k < n && buf[i + k] === d[k]) k++;
    if (k === n) return i;
    i++;
  }
}
