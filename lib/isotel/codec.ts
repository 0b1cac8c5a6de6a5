/**
 * The Isotel IoT "Service API" line protocol (docs/isotel.md §2).
 *
 * Every message, in both directions, ends with a blank line (`\n\n`; `\r\n\r\n` is
 * tolerated). A message is `<KEYWORD><space><BODY>` where the body is JSON or plain text;
 * a message whose first word is not one of the protocol's {@link KEYWORDS} (exactly, as a
 * whole word) is a request relayed from the IoT's HTTP API, its whole text the body — so
 * `ON` or `RESET now` are requests, not unknown keywords. Framing goes through the
 * package's one {@link Framer}; this file adds keyword dispatch ({@link decode}) and an
 * encoder ({@link encode}) that can never put a blank line inside a body.
 */
import { isAscii } from 'node:buffer';
import { Framer } from '../common/framer';
import { readJson, type Json, type JsonLimits } from '../common/json';

/** The terminators a decoder accepts (the encoder always writes `\n\n`). */
export const DELIMITERS = ['\r\n\r\n', '\n\n'];
/** A message longer than this without a terminator is dropped and the link reset. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
export const TERMINATOR = '\n\n';

export const KEYWORDS = ['REPLY', 'HREPLY', 'STOP', 'IDENT', 'CONNECT', 'DISCONNECT', 'SIGNAL', 'NOTIFY'] as const;
export type Keyword = (typeof KEYWORDS)[number];

/** A body as decoded: JSON when it parses, the trimmed text otherwise, `undefined` when empty. */
export type Body = Json | undefined;

export interface HttpReply {
  status: number;
  mime: string;
  body: Json;
}

export type IsotelMessage =
  | { kind: 'reply'; body: Body; malformed?: true; reason?: string }
  | { kind: 'hreply'; reply: HttpReply; malformed?: true; reason?: string }
  | { kind: 'ident'; body: Body; malformed?: true; reason?: string }
  | { kind: 'stop'; body: Body; malformed?: true; reason?: string }
  /** Service → IoT: `body` = CONNECT options; IoT → service: `body` = `{"status":"OK"|"Error"}`. */
  | { kind: 'connect'; uri: string; body: Body; malformed?: true; reason?: string }
  /** Without `uri`: the bare `DISCONNECT` a service sends when it finishes. */
  | { kind: 'disconnect'; uri?: string; body: Body; malformed?: true; reason?: string }
  | { kind: 'signal'; uri: string; data: Body; malformed?: true; reason?: string }
  | { kind: 'notify'; body: Body; malformed?: true; reason?: string }
  /** Anything whose first word is not a keyword: a request relayed from the IoT's HTTP API (the whole text). */
  | { kind: 'request'; body: Body; malformed?: true; reason?: string }
  /** A keyword whose mandatory part is missing (`SIGNAL` without a URI, `HREPLY` without a status…). */
  | { kind: 'invalid'; keyword: Keyword; reason: string; text: string };

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

function isInlineSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Parameter URIs may come without the leading `/` (`me/device0/ec/E`): normalise to `/me/…`. */
export function normalizeUri(uri: string): string {
  const u = uri.trim();
  return u.startsWith('/') ? u : `/${u}`;
}

export interface ParsedBody {
  body: Body;
  malformed: boolean;
  /** Why JSON-looking text stayed text: a syntax error or a limit of the bounded reader. */
  reason?: string;
}

/**
 * The limits every Isotel body is read within (`lib/common/json.ts`): nesting past 32 levels,
 * more than 10 000 values or a string over 256 KiB is never built into a value — such a body
 * stays text (and is flagged), so nothing deeper than this ever leaves a node.
 */
export const BODY_LIMITS: JsonLimits = { maxLength: MAX_MESSAGE_BYTES };

/**
 * JSON when it parses within {@link BODY_LIMITS} (through the package's one bounded reader);
 * text otherwise. Text that looks like JSON (starts with `{`, `[` or `"`) but does not parse,
 * or breaks a limit, is returned as text with `malformed` set and the `reason`.
 */
export function parseBody(text: string): ParsedBody {
  if (text.length === 0) return { body: undefined, malformed: false };
  const c = text.charCodeAt(0);
  // { [ " - 0-9 t f n : the only characters a JSON text can start with
  const jsonish =
    c === 0x7b || c === 0x5b || c === 0x22 || c === 0x2d || (c >= 0x30 && c <= 0x39) || text === 'true' || text === 'false' || text === 'null';
  if (!jsonish) return { body: text, malformed: false };
  const r = readJson(text, BODY_LIMITS);
  if (r.ok) return { body: r.value, malformed: false };
  return c === 0x7b || c === 0x5b || c === 0x22 ? { body: text, malformed: true, reason: r.reason } : { body: text, malformed: false };
}

function keywordAt(s: string, p: number, q: number): Keyword | undefined {
  // Compare in place first (no substring for the common case), then name it.
  switch (q - p) {
    case 4:
      return s.startsWith('STOP', p) ? 'STOP' : undefined;
    case 5:
      return s.startsWith('REPLY', p) ? 'REPLY' : s.startsWith('IDENT', p) ? 'IDENT' : undefined;
    case 6:
      return s.startsWith('SIGNAL', p) ? 'SIGNAL' : s.startsWith('HREPLY', p) ? 'HREPLY' : s.startsWith('NOTIFY', p) ? 'NOTIFY' : undefined;
    case 7:
      return s.startsWith('CONNECT', p) ? 'CONNECT' : undefined;
    case 10:
      return s.startsWith('DISCONNECT', p) ? 'DISCONNECT' : undefined;
    default:
      return undefined;
  }
}

function flag<T extends object>(m: T, parsed: ParsedBody): T {
  if (parsed.malformed) Object.assign(m, { malformed: true, reason: parsed.reason });
  return m;
}

/**
 * A message with its keyword, URI and body text found but the body not yet parsed: the
 * cheap first half of {@link decode}. `keyword` is undefined for a request (then `text` is
 * the whole message); `noUri` marks SIGNAL/CONNECT/DISCONNECT without a URI.
 */
export interface Frame {
  keyword?: Keyword;
  uri?: string;
  noUri?: true;
  /** The body, trimmed ('' when empty). */
  text: string;
}

/** Find keyword, URI and body text of one framed message (`buf[start..end)`, without its terminator). Never throws. */
export function scan(buf: Buffer, start = 0, end = buf.length): Frame {
  return scanText(buf.toString('utf8', start, end), 0, end - start);
}

/** {@link scan} on text: the message is `s[start..end)`. */
export function scanText(s: string, start: number, end: number): Frame {
  let p = start;
  while (p < end && isSpace(s.charCodeAt(p))) p++;
  // A keyword is one of KEYWORDS exactly (case-sensitive), followed by whitespace or the
  // end. Any other first word — `ON`, `RESET now`, `{"a":1}`, `stop` — makes the whole
  // message a request (docs/isotel.md §3 and §6.4: only known keywords are dispatched).
  let q = p;
  while (q < end) {
    const c = s.charCodeAt(q);
    if (c >= 0x41 && c <= 0x5a) q++;
    else break;
  }
  const kw = q < end && !isSpace(s.charCodeAt(q)) ? undefined : keywordAt(s, p, q);
  if (!kw) return { text: trimmed(s, p, end) };
  p = q;
  if (kw === 'SIGNAL' || kw === 'CONNECT' || kw === 'DISCONNECT') {
    // <KEYWORD> <uri> [data]: any run of spaces; CONNECT options may sit on the next line.
    while (p < end && isInlineSpace(s.charCodeAt(p))) p++;
    let u = p;
    while (u < end && !isSpace(s.charCodeAt(u))) u++;
    if (u === p) return { keyword: kw, noUri: true, text: trimmed(s, p, end) };
    const raw = s.slice(p, u);
    return { keyword: kw, uri: s.charCodeAt(p) === 0x2f ? raw : normalizeUri(raw), text: trimmed(s, u, end) };
  }
  return { keyword: kw, text: trimmed(s, p, end) };
}

function trimmed(s: string, from: number, to: number): string {
  while (from < to && isSpace(s.charCodeAt(from))) from++;
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  return from === to ? '' : s.slice(from, to);
}

/** The second half of {@link decode}: parse the body of a scanned frame. */
export function interpret(f: Frame): IsotelMessage {
  const parsed = parseBody(f.text);
  const { body, malformed } = parsed;
  const kw = f.keyword;
  if (!kw) return flag({ kind: 'request', body }, parsed);
  if (f.noUri) {
    if (kw === 'DISCONNECT' && f.text.length === 0) return { kind: 'disconnect', body: undefined };
    return { kind: 'invalid', keyword: kw, reason: `${kw} without a parameter URI`, text: `${kw} ${f.text}`.trim() };
  }
  switch (kw) {
    case 'SIGNAL':
      return flag({ kind: 'signal', uri: f.uri as string, data: body }, parsed);
    case 'CONNECT':
      return flag({ kind: 'connect', uri: f.uri as string, body }, parsed);
    case 'DISCONNECT':
      return flag({ kind: 'disconnect', uri: f.uri as string, body }, parsed);
    case 'HREPLY': {
      const reply = toHttpReply(body);
      if (!reply || malformed) return { kind: 'invalid', keyword: kw, reason: `HREPLY needs a JSON object with a numeric "status"${parsed.reason ? ` (${parsed.reason})` : ''}`, text: `${kw} ${f.text}`.trim() };
      return { kind: 'hreply', reply };
    }
    default: {
      const kind = kw === 'REPLY' ? 'reply' : kw === 'IDENT' ? 'ident' : kw === 'STOP' ? 'stop' : 'notify';
      return flag({ kind, body }, parsed);
    }
  }
}

/**
 * Decode one framed message (without its terminator). Never throws: whatever the bytes,
 * the result is a message of some kind (`request` or `invalid` for odd input).
 */
export function decode(buf: Buffer): IsotelMessage {
  return interpret(scan(buf));
}

function toHttpReply(body: Body): HttpReply | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const status = body.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) return undefined;
  const mime = typeof body.mime === 'string' && body.mime.length > 0 ? body.mime : defaultMime(body.body ?? null);
  return { status, mime, body: body.body === undefined ? null : body.body };
}

/** `application/json` for JSON values, `text/plain` for strings. */
export function defaultMime(body: Json | undefined): string {
  return typeof body === 'string' ? 'text/plain' : 'application/json';
}

// ---------------------------------------------------------------------------------------
// Encoding

/**
 * Serialise a body so that it can never contain a blank line: JSON values are written
 * compactly (JSON escapes every line break inside strings); text has CRLF/CR turned into
 * LF, blank (or whitespace-only) lines removed and surrounding whitespace trimmed.
 */
export function serializeBody(body: unknown): string {
  if (body === undefined) return '';
  if (typeof body === 'string') return safeText(body);
  if (Buffer.isBuffer(body)) return safeText(body.toString('utf8'));
  const json = JSON.stringify(body);
  // JSON.stringify of a function/symbol gives undefined: nothing to send.
  return json === undefined ? '' : json;
}

/** Text without any blank line, trimmed. */
export function safeText(text: string): string {
  let t = text;
  if (t.indexOf('\r') >= 0) t = t.replace(/\r\n?/g, '\n');
  if (t.indexOf('\n') >= 0) t = t.replace(/\n[ \t]*(?=\n)/g, '');
  return t.trim();
}

function frame(keyword: string, ...parts: string[]): string {
  let s = keyword;
  for (const part of parts) if (part.length > 0) s += ' ' + part;
  return s + TERMINATOR;
}

export interface IdentBody {
  name: string;
  vendor: string;
  version: string;
}

export interface ConnectOptions {
  debounce_time?: number;
  send_data?: boolean;
}

export interface NotifyBody {
  message: string;
  module?: string;
  severity?: string;
  receiver?: string | null;
}

export const encode = {
  reply(body: unknown): string {
    return frame('REPLY', serializeBody(body));
  },
  hreply(status: number, mime: string, body: unknown): string {
    const b: Json = body === undefined ? null : Buffer.isBuffer(body) ? body.toString('utf8') : (body as Json);
    return frame('HREPLY', JSON.stringify({ status, mime: safeText(mime), body: b }));
  },
  ident(ident: IdentBody): string {
    return frame('IDENT', JSON.stringify({ name: ident.name, vendor: ident.vendor, version: ident.version }));
  },
  stop(): string {
    return frame('STOP');
  },
  /** `CONNECT <uri>` with the options JSON on the next line (the documented form, docs/isotel.md §S). */
  connect(uri: string, options?: ConnectOptions): string {
    const u = uriToken(uri);
    if (!options || Object.keys(options).length === 0) return frame('CONNECT', u);
    return `CONNECT ${u}\r\n${JSON.stringify(options)}${TERMINATOR}`;
  },
  /** IoT → service: the CONNECT acknowledgement. */
  connectStatus(uri: string, ok: boolean | Json): string {
    const body = typeof ok === 'boolean' ? { status: ok ? 'OK' : 'Error' } : ok;
    return frame('CONNECT', uriToken(uri), JSON.stringify(body));
  },
  /** `DISCONNECT <uri>`, or the bare `DISCONNECT` of a finishing service. */
  disconnect(uri?: string): string {
    return uri === undefined ? frame('DISCONNECT') : frame('DISCONNECT', uriToken(uri));
  },
  signal(uri: string, data: unknown): string {
    return frame('SIGNAL', uriToken(uri), serializeBody(data));
  },
  notify(body: NotifyBody): string {
    return frame('NOTIFY', JSON.stringify(body));
  },
  /** IoT → service: a relayed HTTP request. */
  request(body: unknown): string {
    const s = serializeBody(body);
    // A request must not look like a keyword message; JSON bodies never do.
    return (s.length === 0 ? '{}' : s) + TERMINATOR;
  },
};

/** A URI as one token: whitespace is not allowed inside it. */
function uriToken(uri: string): string {
  const u = normalizeUri(uri);
  if (/\s/.test(u) || u.length < 2) throw new RangeError(`invalid parameter URI ${JSON.stringify(uri)}`);
  return u;
}

/** Is this a usable parameter URI (one token, not empty)? */
export function isValidUri(uri: unknown): uri is string {
  return typeof uri === 'string' && uri.trim().length > 0 && !/\s/.test(uri.trim()) && normalizeUri(uri).length > 1;
}

// ---------------------------------------------------------------------------------------
// Stream decoder

export interface DecoderOptions {
  /** Every message, decoded (body parsed). */
  onMessage?: (message: IsotelMessage) => void;
  /** Or: every message scanned only, body parsing left to the caller ({@link interpret}). */
  onFrame?: (frame: Frame) => void;
  /** A message grew past `maxMessageBytes` without a terminator (it is dropped). */
  onOversize?: (bytes: number) => void;
  maxMessageBytes?: number;
}

/** Framer + decode: feed socket chunks, get messages. */
export class IsotelDecoder {
  private readonly framer: Framer;
  private textOf?: Buffer;
  private text?: string;

  constructor(opts: DecoderOptions) {
    const { onMessage, onFrame } = opts;
    this.framer = new Framer({
      mode: 'delimiter',
      delimiters: DELIMITERS,
      maxMessageBytes: opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
      onRange: (buf, start, end) => {
        // Stray line breaks between messages (e.g. "\n\n\n") are not messages.
        let i = start;
        while (i < end && isSpace(buf[i])) i++;
        if (i === end) return;
        // An ASCII buffer (the usual case) is turned into text once per push and every
        // message is a slice of it; otherwise each message is decoded as UTF-8 on its own.
        if (buf !== this.textOf) {
          this.textOf = buf;
          this.text = isAscii(buf) ? buf.toString('latin1') : undefined;
        }
        const f = this.text !== undefined ? scanText(this.text, start, end) : scan(buf, start, end);
        if (onFrame) onFrame(f);
        else onMessage?.(interpret(f));
      },
      onOversize: opts.onOversize,
    });
  }

  push(chunk: Buffer): void {
    try {
      this.framer.push(chunk);
    } finally {
      this.textOf = undefined;
      this.text = undefined;
    }
  }

  /** Bytes of an unfinished message. */
  get buffered(): number {
    return this.framer.buffered;
  }

}
