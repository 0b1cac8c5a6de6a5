/**
 * The camera alarm's websocket/HTTP API (docs/camera-alarm.md §8) on `ws`, framework-free.
 *
 * One `ApiServer` serves, under an optional base path:
 *  - websocket `/`          status broadcasts (forwarded from the hub) + commands (text or binary
 *                           frames of UTF-8 JSON) with per-sender replies; the reply to a command
 *                           goes out before any status broadcast the command caused
 *  - websocket `/metrics`   the nine metrics fields, one per detector heartbeat (about 1 Hz while frames flow)
 *  - websocket `/raw-video` one binary JPEG per message
 *  - HTTP `/health`, `/snapshot`, `/config` with the codes, bodies and headers of docs/camera-alarm.md §8.1
 *  - HTTP `/` (plain GET, not an upgrade) the monitor page, and `/static/*` its script, style and
 *    images (public: a `<script src>` cannot carry the token; HTML only through `/`)
 *  - HTTP `/clips`, `/clips/<name>` the system's alarm clips (clips.ts), when it has a recorder
 *
 * It either owns an HTTP server (`listen`) or is mounted on someone else's
 * (`handleRequest` / `handleUpgrade`, e.g. Node-RED's `RED.server` + `RED.httpNode`).
 * Beyond docs/camera-alarm.md §8: optional bearer token on every route, ping/pong reaping of dead
 * clients, and a per-client send-buffer cap (a slow client drops broadcasts; counted).
 * `/config` is the hub's document (every top section: a member's, or the stand-in the hub was
 * given for one no node owns, docs/camera-alarm.md §8.1) with its secrets masked (lib/system/secrets.ts) plus the
 * `flags` of docs/camera-alarm.md §1.1 (describing this process, never acted on) and `monitoring: null` (docs/camera-alarm.md §8.1).
 * No exception escapes a request, upgrade or message handler: it becomes an `error` event.
 */
import { EventEmitter } from 'node:events';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { systemClock, type Clock, type TimerHandle } from '../common/clock';
import { serveClips } from './clips';
import { parseEnvelope, type ParsedCommand } from './envelope';
import { ProcessMetrics, type MetricsSource } from './metrics';
import type { AlarmStatus, ApiHub, CommandReply, DetectorMetrics, FrameInfo } from './types';

export type Route = 'root' | 'metrics' | 'video';

export interface ApiServerOptions {
  hub: ApiHub;
  clock?: Clock;
  /** Prefix of every route, e.g. "/vigil" when mounted on Node-RED ("" = at the root). */
  basePath?: string;
  /** Bearer token required on every route when set (header `Authorization: Bearer …` or query `access_token`). */
  token?: string;
  /** Ping every client this often; a client that has not answered the previous ping is terminated. Default 20 s (docs/camera-alarm.md §8). 0 = off. */
  pingIntervalMs?: number;
  /** Per-client cap on bytes queued for sending; broadcasts to a client above it are dropped and counted. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Largest incoming websocket message. Default 1 MiB (docs/camera-alarm.md §8). */
  maxPayload?: number;
  /** The /snapshot cache is refreshed from the video at most this often. Default 1000 ms. */
  snapshotIntervalMs?: number;
  /** Metrics computation (default: this process, via ProcessMetrics). */
  metrics?: MetricsSource;
  /** Folder of the monitor page (default: ./static beside this file). null = no monitor page. */
  staticDir?: string | null;
  /** The `flags` section of `/config` (docs/camera-alarm.md §1.1), describing the running process (default {@link DEFAULT_FLAGS}). */
  flags?: () => ApiFlags;
}

/** The command-line flags of docs/camera-alarm.md §1.1, as `/config` serves them. */
export interface ApiFlags {
  config_path: string;
  silent: boolean;
  log_level: string;
  test: boolean;
  file: string | null;
}

/**
 * Vigil has no config file (settings live in the flow), never silences alerts by flag, has no
 * test mode and no `--file` override: so `""`, false, false, null. `log_level` is the host's.
 */
export const DEFAULT_FLAGS: ApiFlags = { config_path: '', silent: false, log_level: 'info', test: false, file: null };

/** Status messages held while a command is processed (its reply goes first); older ones are dropped. */
const MAX_HELD = 32;

interface Client {
  ws: WebSocket;
  route: Route;
  id: string;
  alive: boolean;
  dropped: number;
}

export interface ApiStats {
  clients: Record<Route, number>;
  /** Broadcast messages dropped because a client's send buffer was over the cap. */
  dropped: number;
  /** Clients terminated for not answering a ping. */
  reaped: number;
  /** Connections refused for a missing or wrong token. */
  refused: number;
  /** Commands processed. */
  commands: number;
}

const STATIC_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function sha(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The no-cache/CORS/`Time` headers of /snapshot and /config (docs/camera-alarm.md §8.1). */
function commonHeaders(contentType: string, body: Buffer, timeS: number): http.OutgoingHttpHeaders {
  return {
    'Content-Type': contentType,
    'Content-Length': body.length,
    'Cache-Control': 'no-cache',
    'Access-Control-Allow-Origin': '*',
    Time: String(timeS),
  };
}

export class ApiServer extends EventEmitter {
  readonly basePath: string;
  private readonly hub: ApiHub;
  private readonly clock: Clock;
  private readonly tokenHash?: Buffer;
  private readonly cap: number;
  private readonly wss: WebSocketServer;
  private readonly metrics: MetricsSource;
  private readonly staticDir: string | null;
  private readonly snapshotEvery: number;
  private readonly clients = new Set<Client>();
  private server?: http.Server;
  private pingTimer?: TimerHandle;
  private sampling = false;
  /** A heartbeat came while a sample was being taken: take another when it is done. */
  private sampleAgain = false;
  private queue: Promise<void> = Promise.resolve();
  private snapshot?: { jpeg: Buffer; time: number };
  private closed = false;
  private counters = { dropped: 0, reaped: 0, refused: 0, commands: 0 };
  private readonly flags: () => ApiFlags;
  /** > 0 while a command is processed: status broadcasts wait in `held` until its reply is sent. */
  private holding = 0;
  private held: string[] = [];
  private readonly onStatus = (s: AlarmStatus): void => {
    const text = JSON.stringify(s);
    if (this.holding === 0) {
      this.broadcast('root', text, false);
      return;
    }
    if (this.held.length >= MAX_HELD) this.held.shift();
    this.held.push(text);
  };
  /**
   * One /metrics message per detector heartbeat (the motion node reports about once a second
   * while frames are processed, nothing when none are), as docs/camera-alarm.md §8.7 says. Heartbeats while
   * no /metrics client is connected are not folded in, so a new client's first sample covers
   * only the time since it came.
   */
  private readonly onMetrics = (m: DetectorMetrics): void => {
    if (this.closed || !this.hasClients('metrics')) return;
    this.metrics.note(m);
    void this.sampleMetrics();
  };
  private readonly onFrame = (jpeg: Buffer, _info: FrameInfo): void => this.frame(jpeg);

  constructor(opts: ApiServerOptions) {
    super();
    this.hub = opts.hub;
    this.clock = opts.clock ?? systemClock;
    this.basePath = normaliseBase(opts.basePath ?? '');
    if (opts.token) this.tokenHash = sha(opts.token);
    this.cap = opts.maxBufferedBytes ?? 1024 * 1024;
    this.snapshotEvery = opts.snapshotIntervalMs ?? 1000;
    this.staticDir = opts.staticDir === undefined ? path.join(__dirname, 'static') : opts.staticDir;
    this.flags = opts.flags ?? (() => DEFAULT_FLAGS);
    this.metrics = opts.metrics ?? new ProcessMetrics({ fallbackSockets: () => this.clients.size });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload ?? 1024 * 1024, clientTracking: false });
    this.wss.on('error', (err) => this.emit('error', err));

    this.hub.on('status', this.onStatus);
    this.hub.on('metrics', this.onMetrics);
    this.hub.on('frame', this.onFrame);
    if (this.hub.frame) this.snapshot = { jpeg: this.hub.frame.jpeg, time: this.clock.now() };

    const ping = opts.pingIntervalMs ?? 20000;
    if (ping > 0) this.pingTimer = this.clock.setInterval(() => this.pingAll(), ping);
  }

  /** Own an HTTP server on host:port (port 0 = any). Resolves with the bound port. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = http.createServer((req, res) => {
      if (!this.handleRequest(req, res)) {
        const body = Buffer.from('path not found\n');
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
        res.end(body);
      }
    });
    server.on('upgrade', (req, socket, head) => {
      if (!this.handleUpgrade(req, socket, head)) socket.destroy();
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server = undefined;
        reject(err);
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', (err) => this.emit('error', err));
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** The route (relative to the base path) of a request URL, or undefined when outside the base. */
  private relative(rawUrl: string | undefined): { rel: string; query: URLSearchParams } | undefined {
    let u: URL;
    try {
      u = new URL(rawUrl ?? '/', 'http://x');
    } catch {
      // e.g. an absolute-form target with a bad host or port: not ours (a throw here would
      // be uncaught in an 'upgrade' or 'request' listener and end the process)
      return undefined;
    }
    let p = u.pathname;
    if (this.basePath) {
      if (p === this.basePath) p = '/';
      else if (p.startsWith(this.basePath + '/')) p = p.slice(this.basePath.length);
      else return undefined;
    }
    return { rel: p, query: u.searchParams };
  }

  private authorised(req: http.IncomingMessage, query: URLSearchParams): boolean {
    if (!this.tokenHash) return true;
    let given: string | undefined;
    const h = req.headers.authorization;
    if (typeof h === 'string') {
      const m = /^Bearer\s+(.+)$/i.exec(h.trim());
      if (m) given = m[1];
    }
    if (given === undefined) given = query.get('access_token') ?? undefined;
    if (given === undefined) return false;
    return timingSafeEqual(sha(given), this.tokenHash);
  }

  /** Count a request refused for its token; `refused` (remote address) lets the node warn, rate-limited. */
  private refuse(req: http.IncomingMessage): void {
    this.counters.refused++;
    if (this.listenerCount('refused') > 0) this.emit('refused', req.socket?.remoteAddress ?? '?');
  }

  /**
   * Answer a plain HTTP request if it is one of ours. Returns false when the path is
   * outside the base path or unknown (the caller answers it). Never throws.
   */
  handleRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    try {
      return this.answer(req, res);
    } catch (err) {
      this.emit('error', err);
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      } else res.destroy();
      return true;
    }
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const r = this.relative((req as { originalUrl?: string }).originalUrl ?? req.url);
    if (!r) return false;
    const { rel, query } = r;
    const clips = rel === '/clips' || rel.startsWith('/clips/');
    const known = rel === '/' || rel === '/health' || rel === '/snapshot' || rel === '/config' || rel.startsWith('/static/') || clips;
    if (!known) return false;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const body = Buffer.from('method not allowed\n');
      res.writeHead(405, { Allow: 'GET, OPTIONS', 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length });
      res.end(body);
      return true;
    }
    // The page's script, style and images are public code (a <script src> cannot carry the
    // token); the page itself (only at `/`) and every API route need the token.
    if (!isPublicAsset(rel) && !this.authorised(req, query)) {
      this.refuse(req);
      const body = Buffer.from('unauthorized\n');
      res.writeHead(401, {
        'WWW-Authenticate': 'Bearer realm="vigil"',
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': body.length,
        'Access-Control-Allow-Origin': '*',
      });
      res.end(body);
      return true;
    }
    if (clips) {
      void serveClips(this.hub.clipStore, req, res, rel);
      return true;
    }
    const send = (status: number, headers: http.OutgoingHttpHeaders, body: Buffer): void => {
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const nowS = this.clock.now() / 1000;
    if (rel === '/' && this.basePath && !new URL(req.url ?? '/', 'http://x').pathname.endsWith('/')) {
      // The page's relative links need the trailing slash.
      const q = query.toString();
      res.writeHead(301, { Location: `${this.basePath}/${q ? `?${q}` : ''}`, 'Content-Length': 0 });
      res.end();
      return true;
    }
    switch (rel) {
      case '/health': {
        const body = Buffer.from('OK\n');
        send(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length }, body);
        return true;
      }
      case '/snapshot': {
        const snap = this.snapshot;
        const body = snap ? snap.jpeg : Buffer.alloc(0);
        send(200, commonHeaders('image/jpeg', body, snap ? snap.time / 1000 : nowS), body);
        return true;
      }
      case '/config': {
        let doc: object;
        try {
          doc = this.configDocument();
        } catch (err) {
          const body = Buffer.from(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
          send(500, commonHeaders('application/json', body, nowS), body);
          return true;
        }
        const body = Buffer.from(JSON.stringify(doc));
        send(200, commonHeaders('application/json', body, nowS), body);
        return true;
      }
      default:
        return this.serveStatic(rel, send);
    }
  }

  /**
   * The whole configuration document (docs/camera-alarm.md §1.2) in its section order: the hub's sections with every
   * secret masked, `flags` (describing this process; never acted on when sent back) and the
   * optional, never-used `monitoring` table as null.
   */
  private configDocument(): object {
    const doc = this.hub.getConfig({ maskSecrets: true }) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of ['server', 'camera']) if (k in doc) out[k] = doc[k];
    out.flags = { ...this.flags() };
    for (const k of ['processing', 'alerting', 'alerters']) if (k in doc) out[k] = doc[k];
    for (const [k, v] of Object.entries(doc)) if (!(k in out)) out[k] = v;
    out.monitoring = null;
    return out;
  }

  private serveStatic(rel: string, send: (status: number, headers: http.OutgoingHttpHeaders, body: Buffer) => void): boolean {
    if (!this.staticDir) return false;
    const page = rel === '/';
    const name = page ? 'index.html' : rel.slice('/static/'.length);
    if (!/^[A-Za-z0-9_-]+\.[a-z]+$/.test(name)) return false;
    const type = page ? 'text/html; charset=utf-8' : STATIC_TYPES[path.extname(name)];
    if (!type) return false;
    let body: Buffer;
    try {
      body = fs.readFileSync(path.join(this.staticDir, name));
    } catch {
      return false;
    }
    send(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-cache' }, body);
    return true;
  }

  /**
   * Take a websocket upgrade if it is ours (inside the base path). Returns false when
   * it is not, leaving the socket untouched for other upgrade handlers. Never throws.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    try {
      return this.upgrade(req, socket, head);
    } catch (err) {
      this.emit('error', err);
      socket.destroy();
      return true;
    }
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const r = this.relative(req.url);
    if (!r) return false;
    if (this.closed) {
      socket.destroy();
      return true;
    }
    if (!this.authorised(req, r.query)) {
      this.refuse(req);
      socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="vigil"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    const route: Route | undefined = r.rel === '/' ? 'root' : r.rel === '/metrics' ? 'metrics' : r.rel === '/raw-video' ? 'video' : undefined;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (!route) {
        // Unknown path → one error message, then close (docs/camera-alarm.md §8.1).
        ws.send(JSON.stringify({ error: 'path not found' }), () => ws.close(1000));
        return;
      }
      this.adopt(ws, route);
    });
    return true;
  }

  private adopt(ws: WebSocket, route: Route): void {
    const client: Client = { ws, route, id: randomUUID(), alive: true, dropped: 0 };
    this.clients.add(client);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data: RawData) => {
      try {
        this.onMessage(client, data);
      } catch (err) {
        this.emit('error', err);
      }
    });
    ws.on('error', () => {
      // e.g. a message over maxPayload; ws closes the socket itself
    });
    ws.on('close', () => {
      this.clients.delete(client);
      this.emit('clients', this.stats().clients);
    });
    this.emit('clients', this.stats().clients);
  }

  /** A command as a text or binary frame (UTF-8 JSON); anything on /metrics or /raw-video gets the error of docs/camera-alarm.md §8.1. */
  private onMessage(client: Client, data: RawData): void {
    if (client.route !== 'root') {
      this.reply(client, { error: 'This path does not support duplex communication' });
      return;
    }
    const parsed = parseEnvelope(data);
    // One FIFO for every command, processed strictly in order (one queue, docs/camera-alarm.md §8.2). While
    // one runs, status broadcasts wait: its reply reaches the sender before the status it caused.
    this.queue = this.queue
      .then(async () => {
        this.holding++;
        try {
          const reply = parsed.ok ? await this.run(parsed.value) : parsed.reply;
          this.counters.commands++;
          this.reply(client, reply);
        } finally {
          this.release();
        }
      })
      // A throw here (e.g. a reply that cannot be serialised) must neither stop the queue
      // for every later command nor become an unhandled rejection.
      .catch((err: unknown) => {
        if (this.listenerCount('error') > 0) this.emit('error', err);
      });
  }

  /** The end of a command: the status broadcasts held meanwhile go out, in order. */
  private release(): void {
    this.holding--;
    if (this.holding > 0) return;
    const held = this.held;
    this.held = [];
    for (const text of held) this.broadcast('root', text, false);
  }

  private async run(cmd: ParsedCommand): Promise<CommandReply> {
    try {
      // Masked secrets are restored by the hub, and only where they may go (lib/system/secrets.ts).
      const reply = await this.hub.command(cmd.command, cmd.data);
      this.emit('command', cmd, reply);
      return reply;
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** A reply goes to its sender only, whatever its buffer (replies are small and rare). */
  private reply(client: Client, reply: CommandReply): void {
    if (client.ws.readyState === WebSocket.OPEN) client.ws.send(JSON.stringify(reply));
  }

  private broadcast(route: Route, data: string | Buffer, binary: boolean): void {
    // Encode a text message once, not once per client.
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (const c of this.clients) {
      if (c.route !== route || c.ws.readyState !== WebSocket.OPEN) continue;
      if (c.ws.bufferedAmount > this.cap) {
        c.dropped++;
        this.counters.dropped++;
        continue;
      }
      c.ws.send(payload, { binary });
    }
  }

  private frame(jpeg: Buffer): void {
    const now = this.clock.now();
    if (!this.snapshot || now - this.snapshot.time >= this.snapshotEvery) this.snapshot = { jpeg, time: now };
    this.broadcast('video', jpeg, true);
  }

  private pingAll(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        this.counters.reaped++;
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        // not open any more
      }
    }
  }

  private hasClients(route: Route): boolean {
    for (const c of this.clients) if (c.route === route) return true;
    return false;
  }

  private async sampleMetrics(): Promise<void> {
    if (this.sampling) {
      this.sampleAgain = true;
      return;
    }
    this.sampling = true;
    try {
      do {
        this.sampleAgain = false;
        const m = await this.metrics.sample(this.clock.now());
        if (this.closed) return;
        this.broadcast('metrics', JSON.stringify(m), false);
      } while (this.sampleAgain);
    } catch (err) {
      this.emit('error', err);
    } finally {
      this.sampling = false;
    }
  }

  stats(): ApiStats {
    const clients: Record<Route, number> = { root: 0, metrics: 0, video: 0 };
    for (const c of this.clients) clients[c.route]++;
    return { clients, ...this.counters };
  }

  /** Bytes queued for each connected client (for tests and benches). */
  buffered(route?: Route): number[] {
    const out: number[] = [];
    for (const c of this.clients) if (!route || c.route === route) out.push(c.ws.bufferedAmount);
    return out;
  }

  /** Stop: close every client (1001 going away), timers, hub listeners and the own server. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearInterval(this.pingTimer);
    this.hub.off('status', this.onStatus);
    this.hub.off('metrics', this.onMetrics);
    this.hub.off('frame', this.onFrame);
    for (const c of this.clients) {
      try {
        c.ws.close(1001, 'server shutting down');
      } catch {
        // ignore
      }
      // Don't wait for a slow or dead peer's close frame.
      const t = setTimeout(() => c.ws.terminate(), 500);
      t.unref();
      c.ws.once('close', () => clearTimeout(t));
    }
    this.clients.clear();
    this.wss.close();
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }
}

/** The monitor page's script, style and images: public (a `<script src>` cannot carry the token). */
function isPublicAsset(rel: string): boolean {
  return rel.startsWith('/static/') && STATIC_TYPES[path.extname(rel)] !== undefined;
}

function normaliseBase(p: string): string {
  let b = p.trim();
  if (!b || b === '/') return '';
  if (!b.startsWith('/')) b = '/' + b;
  return b.replace(/\/+$/, '');
}
