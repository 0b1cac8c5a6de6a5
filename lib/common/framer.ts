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
 * resets). Memory is bounded by `maxMessageBytes` plus one chunk. An unfinished message is
 * kept as the list of chunks it arrived in and concatenated once, when it completes, so the
 * cost is linear in its size however it is chunked.
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
  /**
   * The unfinished message (or retained junk) as the chunks it arrived in, concatenated once
   * when the message completes: growth is linear however small the chunks (a chunk that
   * finishes nothing is only appended, never copied).
   */
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** Discarding the rest of an oversize message until the next delimiter. */
  private skipping = false;
  // json-mode scanner state, kept across chunks so each byte is scanned once
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** json mode, depth 0: the junk held in `parts` is only whitespace so far. */
  private junkBlank = true;
  // delimiter-mode scanner state
  private readonly maxDelim: number;
  private readonly delimPos: number[];

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
    return this.partsLen;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.mode === 'delimiter') this.pushDelimited(chunk);
    else if (this.mode === 'json') this.drainJson(chunk);
    else {
      this.append(chunk);
      if (this.partsLen > this.max) this.oversize();
    }
  }

  /** The stream ended: in `close` mode the buffer is the message; otherwise a non-empty tail is emitted too. */
  end(): void {
    const rest = this.joined();
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
    this.parts = [];
    this.partsLen = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.junkBlank = true;
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return;
    this.parts.push(piece);
    this.partsLen += piece.length;
  }

  /** The buffered bytes as one Buffer (one copy, only when there are several parts). */
  private joined(): Buffer {
    const p = this.parts;
    if (p.length === 0) return Buffer.alloc(0);
    if (p.length === 1) return p[0];
    const all = Buffer.concat(p, this.partsLen);
    this.parts = [all];
    return all;
  }

  /** The last `n` buffered bytes (n small: a delimiter's length). */
  private tail(n: number): Buffer {
    if (n <= 0 || this.partsLen === 0) return Buffer.alloc(0);
    const p = this.parts;
    const last = p[p.length - 1];
    if (last.length >= n || p.length === 1) return last.subarray(Math.max(0, last.length - n));
    const out: Buffer[] = [];
    let need = n;
    for (let i = p.length - 1; i >= 0 && need > 0; i--) {
      const b = p[i];
      out.unshift(b.subarray(Math.max(0, b.length - need)));
      need -= b.length;
    }
    return Buffer.concat(out);
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
    const n = this.partsLen;
    // Keep the last bytes in delimiter mode: they may be the start of a split delimiter.
    const tail = this.mode === 'delimiter' && this.maxDelim > 1 ? this.tail(this.maxDelim - 1) : undefined;
    this.reset();
    if (tail) this.append(tail);
    this.skipping = this.mode === 'delimiter';
    this.opts.onOversize?.(n);
  }

  /**
   * Delimiter mode. While nothing is buffered the chunk is scanned in place. Otherwise the
   * chunk is only appended unless a delimiter ends in it (looked for in the chunk and across
   * the joint with the buffered tail); then the message is the buffered parts plus the
   * chunk's bytes before that delimiter — one copy, none when it ends right at the joint (an
   * MJPEG part whose next boundary starts the next chunk) — and the rest of the chunk is
   * scanned in place.
   */
  private pushDelimited(chunk: Buffer): void {
    if (this.partsLen === 0) {
      this.drainDelimited(chunk, 0, 0);
      return;
    }
    const overlap = Math.min(this.maxDelim - 1, this.partsLen);
    const hit = this.firstDelimiter(chunk, overlap);
    if (!hit) {
      if (this.skipping) {
        // Keep only what could be the start of a delimiter split across chunks.
        const keep = this.tail(this.maxDelim - 1 - Math.min(chunk.length, this.maxDelim - 1));
        const rest = chunk.subarray(Math.max(0, chunk.length - (this.maxDelim - 1)));
        this.parts = [];
        this.partsLen = 0;
        this.append(keep);
        this.append(rest);
        return;
      }
      this.append(chunk);
      if (this.partsLen > this.max) this.oversize();
      return;
    }
    if (this.skipping) this.skipping = false;
    else {
      const end = hit.messageEnd;
      const message = end <= this.partsLen ? this.joined().subarray(0, end) : Buffer.concat([...this.parts, chunk.subarray(0, end - this.partsLen)], end);
      this.emitRange(message, 0, message.length);
    }
    this.parts = [];
    this.partsLen = 0;
    this.drainDelimited(chunk, hit.restStart, hit.restStart);
  }

  /**
   * The first delimiter that ends in `chunk` (one starting in the last `overlap` buffered
   * bytes comes first): where the message ends, counted from the first buffered byte, and
   * where the rest starts in the chunk. Longest delimiter first on a tie, as in the scan.
   */
  private firstDelimiter(chunk: Buffer, overlap: number): { messageEnd: number; restStart: number } | undefined {
    if (overlap > 0) {
      const joint = Buffer.concat([this.tail(overlap), chunk.subarray(0, this.maxDelim - 1)]);
      let best = -1;
      let len = 0;
      for (const d of this.delims) {
        const p = indexOfDelimiter(joint, d, 0);
        if (p >= 0 && p < overlap && (best < 0 || p < best)) {
          best = p;
          len = d.length;
        }
      }
      if (best >= 0) return { messageEnd: this.partsLen - overlap + best, restStart: best + len - overlap };
    }
    let best = -1;
    let len = 0;
    for (const d of this.delims) {
      const p = indexOfDelimiter(chunk, d, 0);
      if (p >= 0 && (best < 0 || p < best)) {
        best = p;
        len = d.length;
      }
    }
    return best >= 0 ? { messageEnd: this.partsLen + best, restStart: best + len } : undefined;
  }

  private drainDelimited(buf: Buffer, first: number, searchFrom: number): void {
    const delims = this.delims;
    const n = delims.length;
    // Next known index of each delimiter (-1: none in the rest of this buffer). A position
    // found once is reused until consumed, so each delimiter scans the buffer at most once
    // per push however many messages the chunk holds (no O(n²) on a missing "\r\n\r\n").
    const pos = this.delimPos;
    for (let k = 0; k < n; k++) pos[k] = -2;
    let start = first;
    let from = searchFrom;
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
    let rest = start === 0 ? buf : buf.subarray(start);
    if (this.skipping) {
      // Keep only what could be the start of a delimiter split across chunks.
      const keep = this.maxDelim - 1;
      rest = keep > 0 ? rest.subarray(Math.max(0, rest.length - keep)) : Buffer.alloc(0);
    }
    this.parts = [];
    this.partsLen = 0;
    this.append(rest);
    if (!this.skipping && this.partsLen > this.max) this.oversize();
  }

  /** json mode: scan only the new chunk (the scanner state carries over), concatenating a value once when it closes. */
  private drainJson(chunk: Buffer): void {
    let start = 0; // where the current value or junk begins in `chunk` (earlier bytes are in `parts`)
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const c = chunk[i];
      if (this.depth === 0) {
        if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
          if (i > start || this.partsLen > 0) {
            const piece = chunk.subarray(start, i);
            if (!(this.junkBlank && isBlank(piece))) {
              this.append(piece);
              this.opts.onGarbage?.(this.joined());
            }
            this.parts = [];
            this.partsLen = 0;
          }
          this.junkBlank = true;
          start = i;
          this.depth = 1;
          i++;
          continue;
        }
        i++;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
      } else if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          const piece = chunk.subarray(start, i + 1);
          let message = piece;
          if (this.partsLen > 0) {
            this.append(piece);
            message = this.joined();
          }
          this.parts = [];
          this.partsLen = 0;
          this.emit(message);
          start = i + 1;
        }
      }
      i++;
    }
    const rest = chunk.subarray(start);
    if (this.depth === 0) {
      // Nothing open: anything left is whitespace or junk not yet followed by a value.
      if (this.junkBlank && isBlank(rest)) {
        this.parts = [];
        this.partsLen = 0;
        return;
      }
      this.junkBlank = false;
      this.append(rest);
      if (this.partsLen > this.max) {
        const junk = this.joined();
        this.reset();
        this.opts.onGarbage?.(junk);
      }
      return;
    }
    this.append(rest);
    if (this.partsLen > this.max) this.oversize();
  }
}

/** Only whitespace (as String.prototype.trim sees it). */
function isBlank(b: Buffer): boolean {
  return b.length === 0 || b.toString('utf8').trim().length === 0;
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
