/**
 * HTTP(S) client for a HALO's Event Data URL (docs/halo.md §6): Basic and Digest (docs/glossary.md,
 * MD5 / SHA-256) authentication, an "accept self-signed certificates" option, a
 * per-request timeout, single-flight requests and a ceiling of one request per second
 * per HALO however many callers ask (the documented maximum polling rate).
 */
import http from 'node:http';
import https from 'node:https';
import type { Clock, TimerHandle } from '../common/clock';
import { basicAuthorization, DigestSession, parseChallenges } from '../common/digest';

export type HaloAuthMode = 'auto' | 'basic' | 'digest' | 'none';

export interface HaloClientOptions {
  host: string;
  port?: number;
  https?: boolean;
  /** Verify the HALO's certificate (HALOs ship self-signed ones: default false). */
  rejectUnauthorized?: boolean;
  auth?: HaloAuthMode;
  username?: string;
  password?: string;
  timeoutMs?: number;
  /** Least time between the starts of two requests (default 1000 ms, the HALO ceiling). */
  minSpacingMs?: number;
  /** Largest response accepted (default 8 MiB). */
  maxBodyBytes?: number;
  clock: Clock;
}

export type HaloErrorCode = 'timeout' | 'refused' | 'auth' | 'http' | 'json' | 'tls' | 'network' | 'closed';

export class HaloHttpError extends Error {
  constructor(
    readonly code: HaloErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HaloHttpError';
  }

  /** A key that changes when the kind of failure changes (used for "once per change of error"). */
  get key(): string {
    return this.status !== undefined ? `${this.code}:${this.status}` : this.code;
  }
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Something that fetches JSON from a HALO path (the poller depends on this only). */
export interface HaloJsonSource {
  getJson(path: string): Promise<unknown>;
  readonly label: string;
}

export class HaloHttpClient implements HaloJsonSource {
  private readonly o: Required<Omit<HaloClientOptions, 'username' | 'password'>> & { username: string; password: string };
  private readonly agent: http.Agent;
  private readonly digest: DigestSession;
  /** What `auto` learned from the server. */
  private learned: 'basic' | 'digest' | 'none' | undefined;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private chain: Promise<unknown> = Promise.resolve();
  private lastStart = -Infinity;
  private readonly waits = new Set<{ timer: TimerHandle; reject: (e: Error) => void }>();
  private closed = false;
  /** HTTP requests actually sent (auth handshakes included). */
  requestCount = 0;

  constructor(opts: HaloClientOptions) {
    const isHttps = opts.https ?? true;
    this.o = {
      host: opts.host,
      port: opts.port ?? (isHttps ? 443 : 80),
      https: isHttps,
      rejectUnauthorized: opts.rejectUnauthorized ?? false,
      auth: opts.auth ?? 'auto',
      username: opts.username ?? '',
      password: opts.password ?? '',
      timeoutMs: opts.timeoutMs ?? 5000,
      minSpacingMs: opts.minSpacingMs ?? 1000,
      maxBodyBytes: opts.maxBodyBytes ?? 8 * 1024 * 1024,
      clock: opts.clock,
    };
    this.agent = isHttps
      ? new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: this.o.rejectUnauthorized })
      : new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.digest = new DigestSession(this.o.username, this.o.password);
  }

  get label(): string {
    const h = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    return `${h}:${this.o.port}`;
  }

  get baseUrl(): string {
    return `${this.o.https ? 'https' : 'http'}://${this.label}`;
  }

  /**
   * GET `path` and parse JSON. Callers asking for the same path while a request for it is
   * queued or running share its result; requests to one HALO run one at a time, at least
   * `minSpacingMs` apart.
   */
  getJson(path: string): Promise<unknown> {
    if (this.closed) return Promise.reject(new HaloHttpError('closed', 'client closed'));
    const existing = this.inflight.get(path);
    if (existing) return existing;
    const p = this.chain
      .catch(() => undefined)
      .then(() => this.spacing())
      .then(() => this.fetchJson(path))
      .finally(() => {
        if (this.inflight.get(path) === p) this.inflight.delete(path);
      });
    this.inflight.set(path, p);
    this.chain = p;
    return p;
  }

  private spacing(): Promise<void> {
    if (this.closed) return Promise.reject(new HaloHttpError('closed', 'client closed'));
    const wait = this.lastStart + this.o.minSpacingMs - this.o.clock.now();
    if (wait <= 0) {
      this.lastStart = this.o.clock.now();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        timer: this.o.clock.setTimeout(() => {
          this.waits.delete(entry);
          if (this.closed) return reject(new HaloHttpError('closed', 'client closed'));
          this.lastStart = this.o.clock.now();
          resolve();
        }, wait),
        reject,
      };
      this.waits.add(entry);
    });
  }

  private authHeader(method: string, path: string): string | undefined {
    const mode = this.o.auth === 'auto' ? this.learned : this.o.auth;
    if (mode === 'basic') return basicAuthorization(this.o.username, this.o.password);
    if (mode === 'digest' && this.digest.ready) return this.digest.authorization(method, path);
    return undefined;
  }

  private async fetchJson(path: string): Promise<unknown> {
    let res = await this.send(path, this.authHeader('GET', path));
    for (let attempt = 0; res.status === 401 && attempt < 2; attempt++) {
      const challenges = parseChallenges(res.headers['www-authenticate']);
      const offersDigest = this.o.auth !== 'basic' && this.o.auth !== 'none' && this.digest.accept(res.headers['www-authenticate']);
      const offersBasic = challenges.some((c) => c.scheme === 'basic');
      const stale = challenges.some((c) => c.scheme === 'digest' && (c.params.stale ?? '').toLowerCase() === 'true');
      if (this.o.username === '' && this.o.password === '') break;
      if (offersDigest && (attempt === 0 || stale)) {
        if (this.o.auth === 'auto') this.learned = 'digest';
      } else if (offersBasic && this.o.auth === 'auto' && this.learned !== 'basic') {
        this.learned = 'basic';
      } else break;
      res = await this.send(path, this.authHeader('GET', path));
    }
    if (res.status === 401 || res.status === 403) {
      if (res.status === 401 && this.o.auth !== 'basic') this.digest.forget();
      throw new HaloHttpError('auth', `HTTP ${res.status} ${http.STATUS_CODES[res.status] ?? ''}`.trim() + (this.o.username === '' ? ' (no credentials set)' : ''), res.status);
    }
    if (res.status >= 300 && res.status < 400) {
      const to = String(res.headers.location ?? '');
      const hint = !this.o.https && /^https:/i.test(to) ? ': the HALO redirects to HTTPS, turn on HTTPS in the halo-sensor' : to ? ` to ${to}` : '';
      throw new HaloHttpError('http', `HTTP ${res.status} redirect${hint}`, res.status);
    }
    if (res.status < 200 || res.status >= 300) {
      throw new HaloHttpError('http', `HTTP ${res.status} ${http.STATUS_CODES[res.status] ?? ''}`.trim(), res.status);
    }
    try {
      return JSON.parse(res.body.toString('utf8'));
    } catch (e) {
      throw new HaloHttpError('json', `bad JSON from ${path}: ${(e as Error).message}`);
    }
  }

  private send(path: string, authorization: string | undefined): Promise<RawResponse> {
    if (this.closed) return Promise.reject(new HaloHttpError('closed', 'client closed'));
    this.requestCount++;
    const lib = this.o.https ? https : http;
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
      if (authorization) headers.Authorization = authorization;
      const req = lib.request({
        host: this.o.host,
        port: this.o.port,
        method: 'GET',
        path,
        headers,
        agent: this.agent,
        rejectUnauthorized: this.o.rejectUnauthorized,
      });
      const finish = (err: Error | undefined, res?: RawResponse): void => {
        if (settled) return;
        settled = true;
        this.o.clock.clearTimeout(timer);
        if (err) reject(err);
        else if (res) resolve(res);
      };
      const timer = this.o.clock.setTimeout(() => {
        finish(new HaloHttpError('timeout', `no answer from ${this.label} within ${this.o.timeoutMs} ms`));
        req.destroy();
      }, this.o.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => finish(this.mapError(err)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.o.maxBodyBytes) {
            finish(new HaloHttpError('http', `response from ${path} larger than ${this.o.maxBodyBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (err) => finish(this.mapError(err)));
      });
      req.end();
    });
  }

  private mapError(err: NodeJS.ErrnoException): HaloHttpError {
    if (err instanceof HaloHttpError) return err;
    const code = err.code ?? '';
    if (code === 'ECONNREFUSED') return new HaloHttpError('refused', `connection refused by ${this.label}`);
    if (/CERT|SELF_SIGNED|TLS|SSL/i.test(code)) return new HaloHttpError('tls', `TLS error with ${this.label}: ${err.message}`);
    return new HaloHttpError('network', `${this.label}: ${err.message}`);
  }

  /** Cancel waiting requests and free the keep-alive sockets. */
  close(): void {
    this.closed = true;
    for (const w of this.waits) {
      this.o.clock.clearTimeout(w.timer);
      w.reject(new HaloHttpError('closed', 'client closed'));
    }
    this.waits.clear();
    this.agent.destroy();
  }
}
