/**
 * An Isotel IoT stand-in (the IoT side of the Service API) for demos and tests:
 *
 * - the "Service TCP server" services connect to (IDENT, CONNECT/SIGNAL/DISCONNECT,
 *   NOTIFY, REPLY/HREPLY, STOP);
 * - an HTTP front, `/api/v1/me/services/<name>[.json]?action=…`, whose requests are relayed
 *   to the service as a JSON body and answered from its REPLY / HREPLY / IDENT (status and
 *   MIME honoured), `?action=stop` sends STOP (or, with `stopAs: 'request'`, is relayed
 *   as `{"action":"stop"}` like any other action);
 * - device parameters that change at a rate and emit SIGNALs to subscribers, honouring
 *   `debounce_time` (minimum ms between SIGNALs, the latest value wins) and `send_data`;
 * - the activity log of NOTIFYs at `/api/v1/me/activity.json`.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { Clock, systemClock, TimerHandle } from '../common/clock';
import type { Json } from '../common/json';
import { Body, encode, HttpReply, IsotelDecoder, IsotelMessage, normalizeUri, parseBody } from './codec';

export interface SimParameter {
  uri: string;
  /** ms between value changes (default 1000). */
  intervalMs?: number;
  /** Value at time t (ms); default a slow sine wave. */
  value?: (t: number) => number;
}

export interface IsotelSimOptions {
  host?: string;
  /** Service TCP port (0 = any free port). */
  port?: number;
  /** HTTP front port (0 = any free port, false = none). */
  httpPort?: number | false;
  params?: SimParameter[];
  /** URIs whose CONNECT is refused (`{"status":"Error"}`); unknown URIs are refused too. */
  refuse?: string[];
  /**
   * What `?action=stop` does: send `STOP` (default) or relay `{"action":"stop"}` as a
   * request and answer the HTTP client from the service's reply — the two forms docs/isotel.md §3
   * allows.
   */
  stopAs?: 'keyword' | 'request';
  /** How long an HTTP request waits for the service's answer (default 30 s). */
  requestTimeoutMs?: number;
  /** Keep at most this many activity entries (default 1000). */
  activityLimit?: number;
  clock?: Clock;
  log?: (line: string) => void;
}

export interface ActivityEntry {
  time: string;
  service: string;
  module: string;
  severity: string;
  message: string;
  receiver: string | null;
}

export interface SimReply {
  status: number;
  mime: string;
  body: Json;
}

interface SimSub {
  debounceMs: number;
  sendData: boolean;
  lastSent: number;
  held?: number;
  timer?: TimerHandle;
}

interface PendingHttp {
  action?: string;
  resolve: (r: SimReply) => void;
  timer: TimerHandle;
}

/** One service connection as the IoT sees it. */
export class SimService {
  name?: string;
  ident?: Body;
  readonly subs = new Map<string, SimSub>();
  readonly pending: PendingHttp[] = [];
  /** Every message received from the service, decoded. */
  readonly received: IsotelMessage[] = [];
  /** Set when the service said the bare DISCONNECT. */
  unbound = false;

  constructor(readonly socket: net.Socket) {}

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }
}

interface Param {
  uri: string;
  field: string;
  intervalMs: number;
  value: (t: number) => number;
  current: number;
  timer?: TimerHandle;
}

export const DEFAULT_PARAMS: SimParameter[] = [
  { uri: '/me/device0/ec/E', intervalMs: 1000, value: (t) => 12 + 0.75 * Math.sin(t / 20000) },
  { uri: '/me/device0/ec/T', intervalMs: 2000, value: (t) => 21.5 + 2 * Math.sin(t / 60000) },
  { uri: '/me/device1/th/H', intervalMs: 5000, value: (t) => 45 + 10 * Math.sin(t / 120000) },
];

type SimEvents = {
  connection: [SimService];
  message: [SimService, IsotelMessage];
  notify: [ActivityEntry];
  closed: [SimService];
};

export class IsotelSim extends EventEmitter<SimEvents> {
  private readonly clock: Clock;
  private readonly opts: IsotelSimOptions;
  private tcp?: net.Server;
  private httpServer?: http.Server;
  private readonly params = new Map<string, Param>();
  private readonly refused: Set<string>;
  readonly connections = new Set<SimService>();
  readonly activity: ActivityEntry[] = [];
  port = 0;
  httpPort = 0;

  constructor(opts: IsotelSimOptions = {}) {
    super();
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.refused = new Set((opts.refuse ?? []).map(normalizeUri));
    for (const p of opts.params ?? DEFAULT_PARAMS) {
      const uri = normalizeUri(p.uri);
      const value = p.value ?? ((t: number) => 20 + 5 * Math.sin(t / 30000));
      this.params.set(uri, {
        uri,
        field: uri.split('/').filter(Boolean).pop() ?? 'value',
        intervalMs: Math.max(1, p.intervalMs ?? 1000),
        value,
        current: value(this.clock.now()),
      });
    }
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  async start(): Promise<{ port: number; httpPort: number }> {
    const host = this.opts.host ?? '127.0.0.1';
    this.tcp = net.createServer((s) => this.onConnection(s));
    await new Promise<void>((resolve, reject) => {
      this.tcp?.once('error', reject);
      this.tcp?.listen(this.opts.port ?? 0, host, () => resolve());
    });
    this.port = (this.tcp.address() as net.AddressInfo).port;
    const httpPort = this.opts.httpPort;
    if (httpPort !== false) {
      this.httpServer = http.createServer((req, res) => this.onHttp(req, res));
      await new Promise<void>((resolve, reject) => {
        this.httpServer?.once('error', reject);
        this.httpServer?.listen(httpPort ?? 0, host, () => resolve());
      });
      this.httpPort = (this.httpServer.address() as net.AddressInfo).port;
    }
    for (const p of this.params.values()) {
      p.timer = this.clock.setInterval(() => this.tick(p), p.intervalMs);
    }
    return { port: this.port, httpPort: this.httpPort };
  }

  async stop(): Promise<void> {
    for (const p of this.params.values()) this.clock.clearInterval(p.timer);
    for (const c of this.connections) this.dropConnection(c);
    await Promise.all([
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
      new Promise<void>((r) => {
        if (!this.httpServer) return r();
        this.httpServer.close(() => r());
        this.httpServer.closeAllConnections();
      }),
    ]);
  }

  /** The newest live connection that identified as `name`. */
  service(name: string): SimService | undefined {
    let found: SimService | undefined;
    for (const c of this.connections) if (c.name === name && !c.unbound) found = c;
    return found;
  }

  /** Drop every service socket (a network failure, as the service sees it). */
  dropAll(): void {
    for (const c of this.connections) c.socket.destroy();
  }

  /** Send STOP to a service (what `?action=stop` does). */
  sendStop(name: string): boolean {
    const c = this.service(name);
    if (!c) return false;
    c.write(encode.stop());
    return true;
  }

  /** Relay a request to a service and wait for its answer (the HTTP front uses this). */
  request(name: string, body: Json): Promise<SimReply> {
    const c = this.service(name);
    if (!c) return Promise.resolve({ status: 503, mime: 'application/json', body: { error: `service ${name} is not connected` } });
    return new Promise<SimReply>((resolve) => {
      const action = body && typeof body === 'object' && !Array.isArray(body) && typeof body.action === 'string' ? body.action : undefined;
      const entry: PendingHttp = {
        action,
        resolve,
        timer: this.clock.setTimeout(() => {
          const i = c.pending.indexOf(entry);
          // Keep the slot (the service still owes an answer) but release the HTTP client.
          if (i >= 0) c.pending[i] = { ...entry, resolve: () => undefined };
          resolve({ status: 504, mime: 'application/json', body: { error: 'the service did not answer in time' } });
        }, this.opts.requestTimeoutMs ?? 30000),
      };
      c.pending.push(entry);
      c.write(encode.request(body));
    });
  }

  /** Change a parameter's value now (and SIGNAL subscribers). */
  setValue(uri: string, value: number): void {
    const p = this.params.get(normalizeUri(uri));
    if (!p) throw new RangeError(`no parameter ${uri}`);
    p.current = value;
    this.publish(p);
  }

  get parameterUris(): string[] {
    return [...this.params.keys()];
  }

  // ---- service connections -------------------------------------------------------------

  private onConnection(socket: net.Socket): void {
    const c = new SimService(socket);
    this.connections.add(c);
    socket.setNoDelay(true);
    this.log(`service connected from ${socket.remoteAddress}:${socket.remotePort}`);
    const decoder = new IsotelDecoder({
      onMessage: (m) => {
        // Whatever a service sends (e.g. `CONNECT /`, which has no URI to acknowledge), and
        // whatever a 'message' listener does with it, ends as a log line for that message,
        // never as an exception out of the socket handler.
        try {
          this.onMessage(c, m);
        } catch (err) {
          this.log(`could not handle a ${m.kind} message from ${c.name ?? 'a service'}: ${err instanceof Error ? err.message : String(err)}`);
        }
      },
      onOversize: (n) => {
        this.log(`message over 1 MiB (${n} bytes) from ${c.name ?? 'a service'}: connection closed`);
        socket.destroy();
      },
    });
    socket.on('data', (d: Buffer) => decoder.push(d));
    socket.on('error', (e) => this.log(`socket error: ${e.message}`));
    socket.on('close', () => this.dropConnection(c));
    this.emit('connection', c);
  }

  private dropConnection(c: SimService): void {
    if (!this.connections.delete(c)) return;
    for (const s of c.subs.values()) this.clock.clearTimeout(s.timer);
    c.subs.clear();
    for (const p of c.pending.splice(0)) {
      this.clock.clearTimeout(p.timer);
      p.resolve({ status: 502, mime: 'application/json', body: { error: 'the service disconnected' } });
    }
    c.socket.destroy();
    this.log(`service ${c.name ?? '(unnamed)'} disconnected`);
    this.emit('closed', c);
  }

  private answerHead(c: SimService, r: SimReply): void {
    const head = c.pending.shift();
    if (!head) {
      this.log(`${c.name}: answer with no request waiting, ignored`);
      return;
    }
    this.clock.clearTimeout(head.timer);
    head.resolve(r);
  }

  private onMessage(c: SimService, m: IsotelMessage): void {
    c.received.push(m);
    this.emit('message', c, m);
    switch (m.kind) {
      case 'ident': {
        if (c.pending.length > 0 && c.pending[0].action === 'ident') {
          this.answerHead(c, { status: 200, mime: 'application/json', body: m.body ?? null });
        }
        c.ident = m.body;
        const name = m.body && typeof m.body === 'object' && !Array.isArray(m.body) && typeof m.body.name === 'string' ? m.body.name : undefined;
        if (name && name !== c.name) {
          c.name = name;
          this.log(`service identified: ${JSON.stringify(m.body)}`);
        }
        return;
      }
      case 'reply':
        this.answerHead(c, { status: 200, mime: typeof m.body === 'string' ? 'text/plain' : 'application/json', body: m.body ?? '' });
        return;
      case 'hreply':
        this.answerHead(c, m.reply);
        return;
      case 'connect': {
        const p = this.params.get(m.uri);
        const ok = !!p && !this.refused.has(m.uri);
        c.write(encode.connectStatus(m.uri, ok));
        if (!ok || !p) {
          this.log(`CONNECT ${m.uri} refused`);
          return;
        }
        const o = m.body && typeof m.body === 'object' && !Array.isArray(m.body) ? m.body : {};
        const old = c.subs.get(m.uri);
        if (old) this.clock.clearTimeout(old.timer);
        c.subs.set(m.uri, {
          debounceMs: typeof o.debounce_time === 'number' && o.debounce_time > 0 ? o.debounce_time : 0,
          sendData: o.send_data !== false,
          lastSent: -Infinity,
        });
        this.log(`${c.name ?? 'service'} CONNECT ${m.uri} ${JSON.stringify(o)}`);
        return;
      }
      case 'disconnect':
        if (m.uri) {
          const s = c.subs.get(m.uri);
          if (s) this.clock.clearTimeout(s.timer);
          c.subs.delete(m.uri);
        } else {
          c.unbound = true;
          this.log(`service ${c.name ?? '(unnamed)'} unbound (DISCONNECT)`);
        }
        return;
      case 'notify': {
        const b = m.body;
        const o = b && typeof b === 'object' && !Array.isArray(b) ? b : typeof b === 'string' ? { message: b } : {};
        if (typeof o.message !== 'string') {
          this.log(`NOTIFY without a message ignored: ${JSON.stringify(b)}`);
          return;
        }
        const entry: ActivityEntry = {
          time: new Date(this.clock.now()).toISOString(),
          service: c.name ?? '',
          module: typeof o.module === 'string' ? o.module : (c.name ?? ''),
          severity: typeof o.severity === 'string' ? o.severity : 'API',
          message: o.message,
          receiver: typeof o.receiver === 'string' ? o.receiver : null,
        };
        this.activity.push(entry);
        if (this.activity.length > (this.opts.activityLimit ?? 1000)) this.activity.shift();
        this.emit('notify', entry);
        return;
      }
      default:
        this.log(`unexpected ${m.kind} from ${c.name ?? 'a service'} ignored`);
    }
  }

  // ---- parameters ----------------------------------------------------------------------

  private tick(p: Param): void {
    p.current = p.value(this.clock.now());
    this.publish(p);
  }

  private publish(p: Param): void {
    for (const c of this.connections) {
      const s = c.subs.get(p.uri);
      if (s) this.deliver(c, p, s);
    }
  }

  private deliver(c: SimService, p: Param, s: SimSub): void {
    const now = this.clock.now();
    if (now - s.lastSent >= s.debounceMs) {
      this.sendSignal(c, p, s, p.current);
      return;
    }
    s.held = p.current;
    if (s.timer) return;
    s.timer = this.clock.setTimeout(
      () => {
        s.timer = undefined;
        if (s.held !== undefined && c.subs.get(p.uri) === s) this.sendSignal(c, p, s, s.held);
      },
      s.lastSent + s.debounceMs - now,
    );
  }

  private sendSignal(c: SimService, p: Param, s: SimSub, value: number): void {
    s.lastSent = this.clock.now();
    s.held = undefined;
    const data: { [k: string]: Json } = { status: 'OK' };
    if (s.sendData) data[p.field] = { value: value.toFixed(2) };
    data.time = (this.clock.now() / 1000).toFixed(3);
    c.write(encode.signal(p.uri, data));
  }

  // ---- HTTP front ----------------------------------------------------------------------

  private onHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= 1024 * 1024) chunks.push(d);
    });
    req.on('end', () => {
      this.route(req, Buffer.concat(chunks).toString('utf8'), size > 1024 * 1024)
        .then((r) => send(res, r))
        .catch((e: unknown) => send(res, { status: 500, mime: 'text/plain', body: e instanceof Error ? e.message : String(e) }));
    });
  }

  private async route(req: http.IncomingMessage, text: string, tooBig: boolean): Promise<SimReply> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname.replace(/\/+$/, '');
    if (tooBig) return { status: 413, mime: 'text/plain', body: 'request body over 1 MiB' };
    if (path === '/api/v1/me/activity.json' || path === '/api/v1/me/activity') {
      const limit = Number(url.searchParams.get('limit') ?? '0');
      const list = limit > 0 ? this.activity.slice(-limit) : this.activity;
      return { status: 200, mime: 'application/json', body: list as unknown as Json };
    }
    if (path === '/api/v1/me' || path === '/api/v1/me.json') {
      const roots = [...new Set([...this.params.keys()].map((u) => u.split('/')[2]))];
      return { status: 200, mime: 'application/json', body: roots.map((root) => ({ name: `Simulated device ${root}`, active: true, status: 'active', root, port: 'isotel-sim' })) };
    }
    if (path === '/api/v1/me/services' || path === '/api/v1/me/services.json') {
      const list = [...this.connections].filter((c) => c.name && !c.unbound).map((c) => ({ name: c.name ?? '', ident: c.ident ?? null, subscriptions: [...c.subs.keys()] }));
      return { status: 200, mime: 'application/json', body: list as unknown as Json };
    }
    const m = /^\/api\/v1\/me\/services\/([^/]+?)(?:\.json)?$/.exec(path);
    if (!m) return { status: 404, mime: 'application/json', body: { error: 'not found' } };
    const name = decodeURIComponent(m[1]);
    const query: { [k: string]: Json } = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    if (query.action === 'stop' && this.opts.stopAs !== 'request') {
      return this.sendStop(name)
        ? { status: 200, mime: 'application/json', body: { status: 'OK', action: 'stop' } }
        : { status: 503, mime: 'application/json', body: { error: `service ${name} is not connected` } };
    }
    let body: Json = query;
    const t = text.trim();
    if (t.length > 0) {
      const parsed = parseBody(t).body as Json;
      body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? { ...parsed, ...query } : { ...query, body: parsed };
    }
    return this.request(name, body);
  }
}

function send(res: http.ServerResponse, r: SimReply | HttpReply): void {
  if (res.headersSent) return;
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  res.writeHead(r.status, { 'Content-Type': r.mime, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache' });
  res.end(text);
}
