/**
 * HTTP Digest access authentication (docs/glossary.md, "Digest") with MD5 and SHA-256 (and their `-sess`
 * variants), `qop=auth`, plus Basic. The client side answers a challenge; the server side
 * (used by the simulator) issues challenges and verifies answers.
 */
import crypto from 'node:crypto';
import type http from 'node:http';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

const TOKEN = /[A-Za-z0-9!#$%&'*+.^_`|~-]+/y;
const BARE = /[^,\s]*/y;
const EQUALS = /=*/y;

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parse one or more `WWW-Authenticate` values (`Digest realm="x", nonce="y", Basic realm="z"`)
 * into challenges. Quoted strings may contain commas and escaped quotes.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    const s = value;
    let current: Challenge | undefined;
    const skip = (): void => {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    };
    for (;;) {
      skip();
      if (i >= s.length) break;
      TOKEN.lastIndex = i;
      const m = TOKEN.exec(s);
      if (!m) {
        i++;
        continue;
      }
      const token = m[0];
      i += token.length;
      let j = i;
      while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
      if (s[j] === '=' && current && s[j + 1] !== '=') {
        // auth-param
        i = j + 1;
        while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
        let v = '';
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            v += s[i];
            i++;
          }
          i++;
        } else {
          BARE.lastIndex = i;
          const vm = BARE.exec(s);
          v = vm ? vm[0] : '';
          i += v.length;
        }
        current.params[token.toLowerCase()] = v;
      } else if (s[j] === '=' && current) {
        // token68 (e.g. Bearer/Negotiate data)
        EQUALS.lastIndex = j;
        const rest = EQUALS.exec(s);
        i = j + (rest ? rest[0].length : 0);
      } else {
        current = { scheme: token.toLowerCase(), params: {} };
        out.push(current);
      }
    }
  }
  return out;
}

function hashName(alg: DigestAlgorithm): 'md5' | 'sha256' {
  return alg.startsWith('SHA-256') ? 'sha256' : 'md5';
}

function H(alg: DigestAlgorithm, data: string): string {
  return crypto.createHash(hashName(alg)).update(data, 'utf8').digest('hex');
}

export function normaliseAlgorithm(a: string | undefined): DigestAlgorithm | undefined {
  const u = (a ?? 'MD5').toUpperCase();
  if (u === 'MD5') return 'MD5';
  if (u === 'MD5-SESS') return 'MD5-sess';
  if (u === 'SHA-256') return 'SHA-256';
  if (u === 'SHA-256-SESS') return 'SHA-256-sess';
  return undefined;
}

const PREFERENCE: DigestAlgorithm[] = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

/** The strongest Digest challenge we can answer, if any. */
export function pickDigest(challenges: Challenge[]): (Challenge & { algorithm: DigestAlgorithm }) | undefined {
  let best: (Challenge & { algorithm: DigestAlgorithm }) | undefined;
  for (const c of challenges) {
    if (c.scheme !== 'digest') continue;
    const alg = normaliseAlgorithm(c.params.algorithm);
    if (!alg) continue;
    const qop = c.params.qop;
    if (qop !== undefined && !qop.split(',').map((q) => q.trim()).includes('auth')) continue;
    if (!best || PREFERENCE.indexOf(alg) < PREFERENCE.indexOf(best.algorithm)) best = { ...c, algorithm: alg };
  }
  return best;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Everything needed to compute one response. */
export interface DigestInput {
  algorithm: DigestAlgorithm;
  realm: string;
  nonce: string;
  qop?: 'auth';
  nc: number;
  cnonce: string;
  method: string;
  uri: string;
  username: string;
  password: string;
}

export function digestResponse(d: DigestInput): string {
  let ha1 = H(d.algorithm, `${d.username}:${d.realm}:${d.password}`);
  if (d.algorithm.endsWith('-sess')) ha1 = H(d.algorithm, `${ha1}:${d.nonce}:${d.cnonce}`);
  const ha2 = H(d.algorithm, `${d.method}:${d.uri}`);
  const ncHex = d.nc.toString(16).padStart(8, '0');
  return d.qop ? H(d.algorithm, `${ha1}:${d.nonce}:${ncHex}:${d.cnonce}:${d.qop}:${ha2}`) : H(d.algorithm, `${ha1}:${d.nonce}:${ha2}`);
}

/**
 * A client's Digest session for one server: remembers the last challenge so later requests
 * authenticate in one round trip (incrementing `nc`), until the server says `stale`.
 */
export class DigestSession {
  private challenge?: Challenge & { algorithm: DigestAlgorithm };
  private nc = 0;

  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  get ready(): boolean {
    return this.challenge !== undefined;
  }

  get algorithm(): DigestAlgorithm | undefined {
    return this.challenge?.algorithm;
  }

  /** Take a 401's challenges; false when none is a Digest challenge we can answer. */
  accept(header: string | string[] | undefined): boolean {
    const c = pickDigest(parseChallenges(header));
    if (!c) return false;
    this.challenge = c;
    this.nc = 0;
    return true;
  }

  forget(): void {
    this.challenge = undefined;
  }

  /** The `Authorization` header value for a request. */
  authorization(method: string, uri: string): string {
    const c = this.challenge;
    if (!c) throw new Error('digest: no challenge yet');
    this.nc++;
    const cnonce = crypto.randomBytes(12).toString('hex');
    const qop = c.params.qop !== undefined ? ('auth' as const) : undefined;
    const realm = c.params.realm ?? '';
    const nonce = c.params.nonce ?? '';
    const response = digestResponse({ algorithm: c.algorithm, realm, nonce, qop, nc: this.nc, cnonce, method, uri, username: this.username, password: this.password });
    const parts = [
      `username=${quote(this.username)}`,
      `realm=${quote(realm)}`,
      `nonce=${quote(nonce)}`,
      `uri=${quote(uri)}`,
      `algorithm=${c.algorithm}`,
      `response=${quote(response)}`,
    ];
    if (qop) parts.push(`qop=${qop}`, `nc=${this.nc.toString(16).padStart(8, '0')}`, `cnonce=${quote(cnonce)}`);
    if (c.params.opaque !== undefined) parts.push(`opaque=${quote(c.params.opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

// ---- server side (simulator) -----------------------------------------------------------

export type ServerAuthMode = 'none' | 'basic' | 'digest' | 'any';

export interface ServerAuthOptions {
  mode: ServerAuthMode;
  realm?: string;
  username: string;
  password: string;
  /** Digest algorithms offered, strongest first. */
  algorithms?: DigestAlgorithm[];
  /** Nonce lifetime; an older nonce is answered with `stale=true`. */
  nonceTtlMs?: number;
  now?: () => number;
}

/** Issues challenges and checks `Authorization` headers for a server. */
export class ServerAuth {
  private readonly o: Required<ServerAuthOptions>;
  private readonly nonces = new Map<string, number>();

  constructor(opts: ServerAuthOptions) {
    this.o = {
      mode: opts.mode,
      username: opts.username,
      password: opts.password,
      realm: opts.realm ?? 'IPV_HALO',
      algorithms: opts.algorithms && opts.algorithms.length > 0 ? opts.algorithms : ['SHA-256', 'MD5'],
      nonceTtlMs: opts.nonceTtlMs ?? 300000,
      now: opts.now ?? Date.now,
    };
  }

  /** `WWW-Authenticate` header values for a 401 (`stale` when a known-but-old nonce was used). */
  challenges(stale = false): string[] {
    const out: string[] = [];
    if (this.o.mode === 'digest' || this.o.mode === 'any') {
      const nonce = crypto.randomBytes(16).toString('hex');
      this.nonces.set(nonce, this.o.now());
      if (this.nonces.size > 1000) {
        const oldest = this.nonces.keys().next().value;
        if (oldest !== undefined) this.nonces.delete(oldest);
      }
      const opaque = crypto.createHash('md5').update(this.o.realm).digest('hex');
      for (const alg of this.o.algorithms) {
        out.push(`Digest realm=${quote(this.o.realm)}, qop="auth", algorithm=${alg}, nonce=${quote(nonce)}, opaque=${quote(opaque)}${stale ? ', stale=true' : ''}`);
      }
    }
    if (this.o.mode === 'basic' || this.o.mode === 'any') out.push(`Basic realm=${quote(this.o.realm)}`);
    return out;
  }

  /**
   * Check a request's `Authorization`: true when it may go on; otherwise `res` is answered 401
   * with fresh challenges (`stale=true` for an expired nonce) and false returned.
   */
  admit(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const verdict = this.check(req.method ?? 'GET', req.headers.authorization);
    if (verdict === 'ok') return true;
    res.writeHead(401, { 'WWW-Authenticate': this.challenges(verdict === 'stale'), 'Content-Type': 'text/plain' });
    res.end('Unauthorized\n');
    return false;
  }

  /** `ok`, or `stale` (digest with an expired nonce), or `denied`. */
  check(method: string, authorization: string | undefined): 'ok' | 'stale' | 'denied' {
    if (this.o.mode === 'none') return 'ok';
    if (!authorization) return 'denied';
    const sp = authorization.indexOf(' ');
    const scheme = (sp > 0 ? authorization.slice(0, sp) : authorization).toLowerCase();
    if (scheme === 'basic' && (this.o.mode === 'basic' || this.o.mode === 'any')) {
      const expected = basicAuthorization(this.o.username, this.o.password).slice(6);
      const got = authorization.slice(sp + 1).trim();
      return got.length === expected.length && crypto.timingSafeEqual(Buffer.from(got), Buffer.from(expected)) ? 'ok' : 'denied';
    }
    if (scheme === 'digest' && (this.o.mode === 'digest' || this.o.mode === 'any')) {
      const [c] = parseChallenges(authorization);
      if (!c) return 'denied';
      const p = c.params;
      const alg = normaliseAlgorithm(p.algorithm);
      if (!alg || !this.o.algorithms.includes(alg) || p.username !== this.o.username || p.realm !== this.o.realm) return 'denied';
      const issued = p.nonce !== undefined ? this.nonces.get(p.nonce) : undefined;
      if (issued === undefined) return 'stale';
      const nc = p.nc !== undefined ? parseInt(p.nc, 16) : 0;
      const expected = digestResponse({
        algorithm: alg,
        realm: this.o.realm,
        nonce: p.nonce ?? '',
        qop: p.qop === 'auth' ? 'auth' : undefined,
        nc,
        cnonce: p.cnonce ?? '',
        method,
        uri: p.uri ?? '',
        username: this.o.username,
        password: this.o.password,
      });
      if (p.response !== expected) return 'denied';
      return this.o.now() - issued > this.o.nonceTtlMs ? 'stale' : 'ok';
    }
    return 'denied';
  }
}
