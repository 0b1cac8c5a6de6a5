/**
 * halo-in's HTTP transport: the request handler mounted on Node-RED's HTTP server. In order:
 * the method (GET/POST/PUT, others passed on), the allow list (403), the credentials (401 with
 * `WWW-Authenticate: Basic realm="halo-in"`, checked before a byte of the body is read, so a
 * flood of bad attempts costs one compare each), then the body — capped at `maxBytes` (413)
 * and at the per-message deadline on the injected clock (408) — and the decoder. Every step is
 * guarded: a throw answers 500 and becomes a warning, never an uncaught exception.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../common/clock';
import { depthExceeds } from '../common/json';
import { HALO_JSON_LIMITS } from './decode';
import type { HaloInput } from './input';

/** The URL query parameters that may carry the credentials when a HALO cannot send HTTP Basic. */
export const QUERY_USER = 'user';
export const QUERY_PASSWORD = 'pswd';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The access key and secret a HALO must present. Compared as SHA-256 digests with
 * `timingSafeEqual`: constant time whatever the length or content of the attempt, and the
 * secret itself is not kept in a comparable form.
 */
export class HaloCredentials {
  private readonly user: Buffer;
  private readonly pass: Buffer;

  constructor(username: string, password: string) {
    this.user = sha256(username);
    this.pass = sha256(password);
  }

  /** Credentials configured? (`undefined` when both are empty: no check.) */
  static from(username: string | undefined, password: string | undefined): HaloCredentials | undefined {
    return (username ?? '') === '' && (password ?? '') === '' ? undefined : new HaloCredentials(username ?? '', password ?? '');
  }

  matches(username: string, password: string): boolean {
    // Both compares always run (no short cut that would tell which half was wrong).
    const u = timingSafeEqual(sha256(username), this.user);
    const p = timingSafeEqual(sha256(password), this.pass);
    return u && p;
  }

  /**
   * Check a request: HTTP Basic in `authorization`, else `user`/`pswd` in the query. Returns
   * the URL with those two parameters taken out (so the secret never reaches a message), or
   * `undefined` when the credentials are missing or wrong.
   */
  check(authorization: string | undefined, url: string): string | undefined {
    const { rest, user, pass } = splitCredentials(url);
    if (typeof authorization === 'string' && authorization.length < 4096) {
      const m = /^\s*Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(authorization);
      if (m) {
        const text = Buffer.from(m[1], 'base64').toString('utf8');
        const colon = text.indexOf(':');
        if (colon >= 0 && this.matches(text.slice(0, colon), text.slice(colon + 1))) return rest;
        return undefined;
      }
    }
    if (user !== undefined && pass !== undefined && this.matches(user, pass)) return rest;
    return undefined;
  }
}

function decodeParam(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Take the `user`/`pswd` parameters out of a URL's query: the rest of the URL, and their values. */
export function splitCredentials(url: string): { rest: string; user?: string; pass?: string } {
  const q = url.indexOf('?');
  if (q < 0) return { rest: url };
  const kept: string[] = [];
  let user: string | undefined;
  let pass: string | undefined;
  for (const pair of url.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const name = decodeParam(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (name === QUERY_USER) user = decodeParam(value) ?? '';
    else if (name === QUERY_PASSWORD) pass = decodeParam(value) ?? '';
    else kept.push(pair);
  }
  return { rest: kept.length > 0 ? `${url.slice(0, q)}?${kept.join('&')}` : url.slice(0, q), user, pass };
}

export interface HaloHttpOptions {
  maxBytes: number;
  /** Most time to receive a request body (0 = no deadline beyond Node-RED's server's own). */
  deadlineMs: number;
  clock: Clock;
  credentials?: HaloCredentials;
}

/** Express adds `originalUrl` (the URL before the httpNodeRoot prefix was taken off) and may add a parsed `body`. */
export type HaloHttpRequestIn = IncomingMessage & { body?: unknown; originalUrl?: string };
export type HaloHttpHandler = (req: HaloHttpRequestIn, res: ServerResponse, next: () => void) => void;

function answer(res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  // A refused request's body is not read: close the connection rather than drain it.
  if (status !== 200) res.setHeader('Connection', 'close');
  for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
  res.end(status === 200 ? 'OK\n' : `${status}\n`);
}

/** The route handler for `input` (see the file comment for the order of the checks). */
export function haloHttpHandler(input: HaloInput, o: HaloHttpOptions): HaloHttpHandler {
  return (req, res, next) => {
    try {
      const method = (req.method ?? 'GET').toUpperCase();
      if (method !== 'GET' && method !== 'POST' && method !== 'PUT') return next();
      const peer = { remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort };
      if (!input.allowsHttp(peer.remoteAddress)) return answer(res, 403);
      // The full path as the HALO sent it: `req.url` has lost the httpNodeRoot prefix (e.g.
      // /api) that the strings typed on the HALO carry.
      let url = req.originalUrl ?? req.url ?? '/';
      if (o.credentials) {
        const rest = o.credentials.check(req.headers.authorization, url);
        if (rest === undefined) {
          input.unauthorised(peer);
          return answer(res, 401, { 'WWW-Authenticate': 'Basic realm="halo-in"' });
        }
        url = rest;
      }
      const handle = (body: string): void => {
        try {
          answer(res, input.handleHttp({ method, url, body, ...peer }));
        } catch {
          answer(res, 500);
        }
      };
      const parsed = req.body;
      if (Buffer.isBuffer(parsed)) return handle(parsed.toString('utf8'));
      if (typeof parsed === 'string') return handle(parsed);
      if (parsed && typeof parsed === 'object' && Object.keys(parsed).length > 0) {
        // A body parser (httpNodeMiddleware) built this from the network: bounded before it is stringified.
        if (depthExceeds(parsed, HALO_JSON_LIMITS.maxDepth)) return answer(res, input.httpUnreadable(peer, `JSON nested too deeply (more than ${HALO_JSON_LIMITS.maxDepth} levels)`));
        return handle(JSON.stringify(parsed));
      }
      // A middleware already read the body to its end and left nothing: answer from the URL now.
      if (req.readableEnded) return handle('');
      readBody(req, res, input, o, peer, handle);
    } catch {
      answer(res, 500);
    }
  };
}

function readBody(
  req: HaloHttpRequestIn,
  res: ServerResponse,
  input: HaloInput,
  o: HaloHttpOptions,
  peer: { remoteAddress?: string; remotePort?: number },
  handle: (body: string) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  let timer: TimerHandle | undefined;
  const stop = (status?: number): void => {
    done = true;
    o.clock.clearTimeout(timer);
    chunks.length = 0;
    if (status !== undefined) {
      answer(res, status);
      req.resume();
    }
  };
  if (o.deadlineMs > 0) {
    const started = o.clock.now();
    timer = o.clock.setTimeout(() => {
      if (done) return;
      input.httpSlow(peer, o.clock.now() - started, size);
      stop(408); // with Connection: close, Node-RED's server closes the socket once the answer is out
    }, o.deadlineMs);
  }
  req.on('data', (c: Buffer) => {
    if (done) return;
    size += c.length;
    if (size > o.maxBytes) return stop(input.httpOversize(peer, size));
    chunks.push(c);
  });
  req.on('end', () => {
    if (done) return;
    const body = Buffer.concat(chunks).toString('utf8');
    stop();
    handle(body);
  });
  req.on('error', () => stop());
  req.on('close', () => {
    if (!done) stop();
  });
}
