/**
 * The service side of the Isotel IoT Service API: one TCP link to the IoT's "Service TCP
 * server" (shared/protocols/isotel.md).
 *
 * - `IDENT` on every connect and whenever the IoT asks (`{"action":"ident"}` or `IDENT`).
 * - Requests relayed from the IoT's HTTP API carry no id, so they are answered strictly in
 *   arrival order (FIFO): a reply given out of order waits for the ones before it, and a
 *   request left unanswered past `requestTimeoutMs` is answered `HREPLY 504`.
 * - Subscriptions (`CONNECT <uri>` + options) are re-sent after every reconnect.
 * - `STOP` from the IoT, or a relayed `{"action":"stop"}` request (answered
 *   `REPLY {"status":"OK","action":"stop"}`): requests still waiting are answered
 *   `HREPLY 503` in order, then `DISCONNECT`, close, and stay down until {@link connect}.
 * - Reconnect with the package back-off (1 s → 30 s, jitter), TCP keep-alive, and a
 *   half-open check (outbound bytes stuck in the socket; optional receive-idle limit).
 * - A bounded outbound queue that survives reconnects for messages not tied to one
 *   connection (NOTIFY). When it is full the oldest NOTIFY is dropped and counted — never a
 *   reply: replies are matched to requests by order only, so one lost reply would answer
 *   every later request with the wrong reply. A queue full of replies resets the link.
 *
 * All timing goes through the injected {@link Clock}.
 */
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Backoff, BackoffOptions } from '../common/backoff';
import { Clock, systemClock, TimerHandle } from '../common/clock';
import type { Json } from '../common/json';
import { Body, ConnectOptions, defaultMime, encode, Frame, IdentBody, interpret, IsotelDecoder, IsotelMessage, MAX_MESSAGE_BYTES, normalizeUri, NotifyBody, parseBody } from './codec';

export type LinkState =
  | { state: 'idle' }
  | { state: 'connecting'; attempt: number }
  | { state: 'connected'; subscriptions: number }
  | { state: 'reconnecting'; inMs: number; reason: string }
  /** The IoT sent STOP (or a `{"action":"stop"}` request): down until an explicit `connect()` or a redeploy. */
  | { state: 'stopped' }
  /** `disconnect()` was called: down until `connect()`. */
  | { state: 'disconnected' }
  | { state: 'closed' };

export interface IsotelRequest {
  /** Sequence number on this connection (1, 2, …). */
  id: number;
  /**
   * Which connection the request came on (replies to an older one are dropped). Unique in
   * the process (and random across restarts): a client that replaces another — a "modified
   * nodes" deploy — never hands out an epoch the old one used, so a reply held in the flow
   * across the deploy is refused as stale instead of answering the new connection's request.
   */
  epoch: number;
  body: Body;
  /** `body.action` when the body is an object with a string `action`. */
  action?: string;
  receivedAt: number;
}

export interface RequestRef {
  id: number;
  epoch: number;
}

/** How to answer a request. */
export type Answer = { kind: 'reply'; body: unknown } | { kind: 'hreply'; status: number; mime?: string; body: unknown } | { kind: 'ident' };

/** What became of an answer. */
export type AnswerResult = 'accepted' | 'late' | 'duplicate' | 'stale' | 'unknown';

export interface ClientStats {
  requests: number;
  replies: number;
  timeouts: number;
  signals: number;
  notifies: number;
  queued: number;
  dropped: number;
  reconnects: number;
}

export interface IsotelClientOptions {
  host: string;
  port: number;
  ident: IdentBody;
  /** Per-request timeout before `HREPLY 504` (default 10 s). */
  requestTimeoutMs?: number;
  /** Outbound queue bound (default 1000). */
  queueLimit?: number;
  /** Back-off; defaults 1 s → 30 s, factor 2, jitter 0.2. */
  backoff?: BackoffOptions;
  /** Connect attempt timeout (default 10 s). */
  connectTimeoutMs?: number;
  /** TCP keep-alive initial delay (default 30 s). */
  keepAliveMs?: number;
  /** Half-open check period (default 5 s). */
  checkIntervalMs?: number;
  /** Reset the link when written bytes sit unsent this long (default 30 s). */
  stallTimeoutMs?: number;
  /** Reset the link when nothing was received this long (default 0 = off). */
  idleTimeoutMs?: number;
  /** Answer `{"action":"status"}` here (default true); false hands it to the flow. */
  answerStatus?: boolean;
  maxMessageBytes?: number;
  clock?: Clock;
}

type Events = {
  state: [LinkState];
  request: [IsotelRequest];
  signal: [string, Body];
  /** A CONNECT acknowledgement: uri, accepted, the status body. */
  subscription: [string, boolean, Body];
  /** A request was answered 504 because nothing replied in time. */
  timeout: [IsotelRequest];
  /** A warning and its kind (a fixed category, for rate limiting: {@link WarningKind}). */
  warning: [string, WarningKind];
};

/** The categories of warnings the client emits (never a peer-chosen string). */
export type WarningKind = 'malformed' | 'oversize' | 'invalid' | 'unexpected' | 'queue' | 'options' | 'link' | 'handler';

/**
 * Connection epochs are unique in the process: a counter shared by every client, started at a
 * random point so that two runs of Node-RED do not hand out the same ones either.
 */
let lastEpoch = randomInt(1, 2 ** 30);

function nextEpoch(): number {
  lastEpoch = lastEpoch >= Number.MAX_SAFE_INTEGER ? 1 : lastEpoch + 1;
  return lastEpoch;
}

interface Pending {
  req: IsotelRequest;
  answer?: string;
  timer?: TimerHandle;
}

interface Outbound {
  text: string;
  /**
   * Bound to one connection (a reply, a CONNECT): discarded with that connection, never
   * dropped on overflow. Without it (a NOTIFY) the item survives reconnects and is what an
   * overflow drops.
   */
  epoch?: number;
}

interface Subscription {
  uri: string;
  /** What the IoT was (or will be) sent: the owners' options merged ({@link mergeConnectOptions}). */
  options?: ConnectOptions;
  /** Each owner with the options it asked for. */
  owners: Map<string, ConnectOptions | undefined>;
  status: 'pending' | 'ok' | 'error';
}

/** The effect of CONNECT options: ms between SIGNALs (0 = every update) and whether they carry data. */
function effect(o: ConnectOptions | undefined): { debounce: number; data: boolean } {
  const d = o?.debounce_time;
  return { debounce: typeof d === 'number' && d > 0 ? d : 0, data: o?.send_data !== false };
}

function sameEffect(a: ConnectOptions | undefined, b: ConnectOptions | undefined): boolean {
  const x = effect(a);
  const y = effect(b);
  return x.debounce === y.debounce && x.data === y.data;
}

/**
 * One CONNECT for several subscribers of a URI: the IoT keeps one set of options per
 * parameter. Subscribers that agree get their options as they are; otherwise every one of
 * them gets at least what it asked for — the smallest debounce (none if any wants every
 * update) and data if any wants data.
 */
export function mergeConnectOptions(list: Iterable<ConnectOptions | undefined>): ConnectOptions | undefined {
  const all = [...list];
  if (all.length === 0) return undefined;
  if (all.every((o) => JSON.stringify(o ?? {}) === JSON.stringify(all[0] ?? {}))) return all[0];
  const effects = all.map(effect);
  return { debounce_time: Math.min(...effects.map((e) => e.debounce)), send_data: effects.some((e) => e.data) };
}

/** Connections that lasted at least this long reset the back-off. */
const STABLE_MS = 5000;

export class IsotelClient extends EventEmitter<Events> {
  readonly opts: Required<Omit<IsotelClientOptions, 'backoff' | 'clock'>>;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private link: LinkState = { state: 'idle' };
  private socket?: net.Socket;
  private connected = false;
  private epoch = 0;
  private nextId = 1;
  private fifo: Pending[] = [];
  private queue: Outbound[] = [];
  private subs = new Map<string, Subscription>();
  private retryTimer?: TimerHandle;
  private connectTimer?: TimerHandle;
  private checkTimer?: TimerHandle;
  private connectedAt = 0;
  private lastRx = 0;
  /** Bytes handed to the kernel at the last check (Node's bytesWritten also counts what is still buffered). */
  private lastSent = 0;
  /** When the socket last had nothing pending or made progress. */
  private lastProgress = 0;
  private attempt = 0;
  private closing?: Promise<void>;
  private readonly counters: Omit<ClientStats, 'queued'> = { requests: 0, replies: 0, timeouts: 0, signals: 0, notifies: 0, dropped: 0, reconnects: 0 };
  private readonly startedAt: number;

  constructor(opts: IsotelClientOptions) {
    super();
    this.opts = {
      host: opts.host,
      port: opts.port,
      ident: opts.ident,
      requestTimeoutMs: opts.requestTimeoutMs ?? 10000,
      queueLimit: Math.max(1, opts.queueLimit ?? 1000),
      connectTimeoutMs: opts.connectTimeoutMs ?? 10000,
      keepAliveMs: opts.keepAliveMs ?? 30000,
      checkIntervalMs: opts.checkIntervalMs ?? 5000,
      stallTimeoutMs: opts.stallTimeoutMs ?? 30000,
      idleTimeoutMs: opts.idleTimeoutMs ?? 0,
      answerStatus: opts.answerStatus ?? true,
      maxMessageBytes: opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
    };
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: 1000, maxMs: 30000, factor: 2, jitter: 0.2, ...opts.backoff });
    this.startedAt = this.clock.now();
  }

  get state(): LinkState {
    return this.link;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  get stats(): ClientStats {
    return { ...this.counters, queued: this.queue.length };
  }

  /** Parameter URIs currently wanted, with their last known CONNECT status. */
  get subscriptions(): Map<string, 'pending' | 'ok' | 'error'> {
    return new Map([...this.subs].map(([uri, s]) => [uri, s.status]));
  }

  /** Requests waiting for an answer (or for an earlier one). */
  get pendingRequests(): number {
    return this.fifo.length;
  }

  /** Start (the first time) or reconnect now after STOP / `disconnect()` / while waiting to retry. */
  connect(): void {
    if (this.link.state === 'closed' || this.link.state === 'connected' || this.link.state === 'connecting') return;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.backoff.reset();
    this.open();
  }

  /** Graceful stop on command: DISCONNECT each parameter and the service, close, stay down. */
  disconnect(): void {
    if (this.link.state === 'closed') return;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.shutdownSocket(true);
    this.setState({ state: 'disconnected' });
  }

  /** Close for good (node close): DISCONNECT, end the socket, free every timer. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const sock = this.socket;
    this.shutdownSocket(true);
    this.setState({ state: 'closed' });
    this.closing = new Promise<void>((resolve) => {
      if (!sock || sock.destroyed) return resolve();
      const t = this.clock.setTimeout(() => {
        sock.destroy();
        resolve();
      }, 2000);
      sock.once('close', () => {
        this.clock.clearTimeout(t);
        resolve();
      });
    });
    return this.closing;
  }

  // ---- subscriptions -------------------------------------------------------------------

  /**
   * Subscribe `owner` to `uri` with its CONNECT options. Several owners of one URI share
   * one subscription with their options merged ({@link mergeConnectOptions}); a change of
   * the merged options is sent as a new CONNECT.
   */
  subscribe(uri: string, options: ConnectOptions | undefined, owner: string): void {
    const u = normalizeUri(uri);
    const existing = this.subs.get(u);
    if (!existing) {
      this.subs.set(u, { uri: u, options, owners: new Map([[owner, options]]), status: 'pending' });
      if (this.connected) this.write(encode.connect(u, options), this.epoch);
      this.refreshConnectedState();
      return;
    }
    existing.owners.set(owner, options);
    const wanted = new Set([...existing.owners.values()].map((o) => JSON.stringify(effect(o))));
    if (this.remerge(existing) && wanted.size > 1) {
      this.emit(
        'warning',
        `CONNECT ${u}: its subscribers ask for different options; the IoT keeps one set per parameter, sent ${JSON.stringify(existing.options)} (the smallest debounce, data if any wants it)`,
        'options',
      );
    }
  }

  /** Drop `owner` from `uri`: DISCONNECT when it was the last, else the rest's merged options. */
  unsubscribe(uri: string, owner: string): void {
    const u = normalizeUri(uri);
    const s = this.subs.get(u);
    if (!s || !s.owners.delete(owner)) return;
    if (s.owners.size > 0) {
      this.remerge(s);
      return;
    }
    this.subs.delete(u);
    if (this.connected) this.write(encode.disconnect(u), this.epoch);
    this.refreshConnectedState();
  }

  /** Recompute a subscription's merged options; CONNECT again when their effect changed. */
  private remerge(s: Subscription): boolean {
    const merged = mergeConnectOptions(s.owners.values());
    const changed = !sameEffect(s.options, merged);
    s.options = merged;
    if (changed && this.connected) {
      // The IoT holds the options sent before: say "every update, with data" explicitly
      // rather than with a bare CONNECT that might leave them in place.
      this.write(encode.connect(s.uri, merged ?? { debounce_time: 0, send_data: true }), this.epoch);
    }
    return changed;
  }

  // ---- outbound ------------------------------------------------------------------------

  /** NOTIFY the IoT activity log; queued while the link is down ('dropped' when the queue is full of replies). */
  notify(body: NotifyBody): 'sent' | 'queued' | 'dropped' {
    this.counters.notifies++;
    return this.write(encode.notify(body));
  }

  /** Answer a request. Answers go out in request order. */
  answer(ref: RequestRef, answer: Answer): AnswerResult {
    if (ref.epoch !== this.epoch || !this.connected) return 'stale';
    const entry = this.fifo.find((p) => p.req.id === ref.id);
    if (!entry) return ref.id < this.nextId ? 'late' : 'unknown';
    if (entry.answer !== undefined) return 'duplicate';
    this.settle(entry, this.encodeAnswer(answer));
    return 'accepted';
  }

  private encodeAnswer(a: Answer): string {
    if (a.kind === 'ident') return encode.ident(this.opts.ident);
    if (a.kind === 'reply') return encode.reply(a.body);
    const body = a.body === undefined ? null : a.body;
    return encode.hreply(a.status, a.mime ?? defaultMime(body as Json), body);
  }

  private settle(entry: Pending, text: string): void {
    entry.answer = text;
    this.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    while (this.fifo.length > 0 && this.fifo[0].answer !== undefined) {
      const head = this.fifo.shift() as Pending;
      this.counters.replies++;
      this.write(head.answer as string, head.req.epoch);
    }
  }

  /**
   * Write now when possible, otherwise queue. The queue is bounded: on overflow the oldest
   * NOTIFY goes; when there is none (only replies and CONNECTs, all owed to this connection
   * in order) the link is reset instead — the IoT's pending requests then die with the
   * connection rather than get each other's replies.
   */
  private write(text: string, epoch?: number): 'sent' | 'queued' | 'dropped' {
    const s = this.socket;
    // Bound to a connection that is gone (or going): worthless.
    if (epoch !== undefined && (epoch !== this.epoch || !s || s.destroyed)) return 'dropped';
    if (this.connected && s && !s.destroyed && this.queue.length === 0 && !s.writableNeedDrain) {
      s.write(text);
      return 'sent';
    }
    this.queue.push({ text, epoch });
    if (this.queue.length <= this.opts.queueLimit) return 'queued';
    const i = this.queue.findIndex((q) => q.epoch === undefined);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.counters.dropped++;
      this.emit('warning', `outbound queue full (${this.opts.queueLimit}): oldest NOTIFY dropped (${this.counters.dropped} dropped so far)`, 'queue');
      return i === this.queue.length ? 'dropped' : 'queued';
    }
    const waiting = this.queue.length;
    this.queue = [];
    this.emit('warning', `outbound queue full (${this.opts.queueLimit}) of replies the IoT does not take (${waiting} waiting): link reset rather than drop one and misalign the replies after it`, 'queue');
    if (s) this.dropSocket(s, 'outbound queue full of replies');
    return 'dropped';
  }

  private flushQueue(): void {
    const s = this.socket;
    while (this.connected && s && !s.destroyed && this.queue.length > 0 && !s.writableNeedDrain) {
      const item = this.queue.shift() as Outbound;
      if (item.epoch !== undefined && item.epoch !== this.epoch) continue;
      s.write(item.text);
    }
  }

  // ---- connection ----------------------------------------------------------------------

  private setState(s: LinkState): void {
    this.link = s;
    this.emit('state', s);
  }

  private refreshConnectedState(): void {
    if (this.link.state === 'connected' && this.link.subscriptions !== this.subs.size) {
      this.setState({ state: 'connected', subscriptions: this.subs.size });
    }
  }

  private open(): void {
    this.attempt++;
    this.setState({ state: 'connecting', attempt: this.attempt });
    const sock = net.connect({ host: this.opts.host, port: this.opts.port });
    this.socket = sock;
    const decoder = new IsotelDecoder({
      maxMessageBytes: this.opts.maxMessageBytes,
      onFrame: (f) => this.onFrameGuarded(f),
      onOversize: (n) => {
        this.emit('warning', `a message grew past ${this.opts.maxMessageBytes} bytes without a terminator (${n} bytes): dropped, connection reset`, 'oversize');
        this.dropSocket(sock, 'oversize message');
      },
    });
    this.connectTimer = this.clock.setTimeout(() => {
      this.emit('warning', `connect to ${this.opts.host}:${this.opts.port} timed out`, 'link');
      this.dropSocket(sock, 'connect timeout');
    }, this.opts.connectTimeoutMs);
    sock.on('connect', () => {
      if (this.socket !== sock) return;
      this.clock.clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      sock.setKeepAlive(true, this.opts.keepAliveMs);
      sock.setNoDelay(true);
      this.onConnected(sock);
    });
    sock.on('data', (chunk: Buffer) => {
      if (this.socket !== sock) return;
      this.lastRx = this.clock.now();
      decoder.push(chunk);
    });
    sock.on('drain', () => {
      if (this.socket === sock) this.flushQueue();
    });
    sock.on('error', (err) => {
      if (this.socket === sock) this.lastError = err.message;
    });
    sock.on('close', () => {
      if (this.socket === sock) this.onClosed(sock);
    });
  }

  private lastError = '';

  private onConnected(sock: net.Socket): void {
    this.epoch = nextEpoch();
    this.nextId = 1;
    this.connected = true;
    this.attempt = 0;
    this.connectedAt = this.clock.now();
    this.lastRx = this.connectedAt;
    this.lastSent = sock.bytesWritten - sock.writableLength;
    this.lastProgress = this.connectedAt;
    // Messages bound to an older connection are worthless now.
    this.queue = this.queue.filter((q) => q.epoch === undefined);
    sock.write(encode.ident(this.opts.ident));
    for (const [uri, s] of this.subs) {
      s.status = 'pending';
      sock.write(encode.connect(uri, s.options));
    }
    this.flushQueue();
    this.checkTimer = this.clock.setInterval(() => this.check(sock), this.opts.checkIntervalMs);
    this.setState({ state: 'connected', subscriptions: this.subs.size });
  }

  /** Half-open detection: written bytes that never leave, or (optionally) a silent peer. */
  private check(sock: net.Socket): void {
    if (this.socket !== sock || !this.connected) return;
    const now = this.clock.now();
    const sent = sock.bytesWritten - sock.writableLength;
    if (sock.writableLength === 0 || sent !== this.lastSent) {
      this.lastProgress = now;
    } else if (now - this.lastProgress >= this.opts.stallTimeoutMs) {
      this.emit('warning', `half-open link: ${sock.writableLength} bytes unsent for ${Math.round((now - this.lastProgress) / 1000)} s, reconnecting`, 'link');
      this.dropSocket(sock, 'half-open link');
      return;
    }
    this.lastSent = sent;
    if (this.opts.idleTimeoutMs > 0 && now - this.lastRx >= this.opts.idleTimeoutMs) {
      this.emit('warning', `nothing received for ${Math.round((now - this.lastRx) / 1000)} s, reconnecting`, 'link');
      this.dropSocket(sock, 'idle link');
    }
  }

  private dropSocket(sock: net.Socket, reason: string): void {
    if (this.socket !== sock) return;
    this.lastError = reason;
    sock.destroy();
  }

  private clearConnection(): void {
    this.clock.clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.clock.clearInterval(this.checkTimer);
    this.checkTimer = undefined;
    for (const p of this.fifo) this.clock.clearTimeout(p.timer);
    this.fifo = [];
    this.connected = false;
    this.socket = undefined;
  }

  private onClosed(sock: net.Socket): void {
    const wasUp = this.connected;
    const lasted = wasUp ? this.clock.now() - this.connectedAt : 0;
    this.clearConnection();
    sock.removeAllListeners('data');
    if (this.link.state === 'closed' || this.link.state === 'stopped' || this.link.state === 'disconnected') return;
    if (lasted >= STABLE_MS) this.backoff.reset();
    const delay = this.backoff.next();
    this.counters.reconnects++;
    const reason = this.lastError || (wasUp ? 'connection closed by the IoT' : 'connection failed');
    this.lastError = '';
    this.setState({ state: 'reconnecting', inMs: delay, reason });
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.open();
    }, delay);
  }

  /** End the current socket; with `farewell`, say DISCONNECT per parameter and for the service first. */
  private shutdownSocket(farewell: boolean): void {
    const sock = this.socket;
    const wasUp = this.connected;
    this.clearConnection();
    if (!sock) return;
    if (wasUp && farewell && !sock.destroyed) {
      for (const uri of this.subs.keys()) sock.write(encode.disconnect(uri));
      sock.write(encode.disconnect());
      sock.end();
      // A peer that never closes its side must not keep the socket alive.
      const t = this.clock.setTimeout(() => sock.destroy(), 2000);
      sock.once('close', () => this.clock.clearTimeout(t));
    } else {
      sock.destroy();
    }
  }

  // ---- inbound -------------------------------------------------------------------------

  /**
   * One message, whatever happens while it is handled: a throw (from the decoder or from a
   * listener in a flow) becomes a warning for that message and the socket reads on — nothing
   * escapes into the socket's 'data' handler, where it would end the process.
   */
  private onFrameGuarded(f: Frame): void {
    try {
      this.onFrame(f);
    } catch (err) {
      const what = f.keyword ?? 'request';
      try {
        this.emit('warning', `a ${what} message could not be handled: ${err instanceof Error ? err.message : String(err)}`, 'handler');
      } catch {
        // a warning listener that throws too: nothing more to tell
      }
    }
  }

  private onFrame(f: Frame): void {
    if (f.keyword === 'SIGNAL' && f.uri !== undefined) {
      // The hot path: parse the data only when someone subscribed to this URI.
      this.counters.signals++;
      const sub = this.subs.get(f.uri);
      if (!sub) return;
      const { body, malformed, reason } = parseBody(f.text);
      if (malformed) this.emit('warning', `SIGNAL ${sub.uri}: malformed JSON data, passed on as text (${reason})`, 'malformed');
      // The subscription's own URI string: f.uri is a slice of a whole socket chunk.
      this.emit('signal', sub.uri, body);
      return;
    }
    this.onMessage(interpret(f));
  }

  private onMessage(m: IsotelMessage): void {
    switch (m.kind) {
      case 'request':
        // Whatever it is (JSON, plain text such as `ON`, broken JSON), it is the flow's to answer.
        if (m.malformed) this.emit('warning', `a request with malformed JSON: passed on to the flow as text (${m.reason})`, 'malformed');
        this.onRequest(m.body);
        return;
      case 'ident':
        // A bare IDENT asks for ours (on demand); one with a body is not for us to answer
        // (answering it could ping-pong with a peer that echoes IDENTs).
        if (m.body === undefined) this.onRequest({ action: 'ident' });
        else this.emit('warning', 'ignored an IDENT with a body from the IoT', 'unexpected');
        return;
      case 'connect': {
        const s = this.subs.get(m.uri);
        const status = m.body && typeof m.body === 'object' && !Array.isArray(m.body) ? m.body.status : m.body;
        const ok = typeof status === 'string' && status.toUpperCase() === 'OK';
        if (s) s.status = ok ? 'ok' : 'error';
        this.emit('subscription', m.uri, ok, m.body);
        return;
      }
      case 'disconnect':
        if (m.uri && this.subs.has(m.uri)) {
          const s = this.subs.get(m.uri) as Subscription;
          s.status = 'error';
          this.emit('subscription', m.uri, false, m.body ?? 'disconnected by the IoT');
        }
        return;
      case 'stop':
        this.onStop();
        return;
      case 'invalid':
        this.emit('warning', `ignored: ${m.reason}`, 'invalid');
        return;
      default:
        this.emit('warning', `ignored unexpected ${m.kind.toUpperCase()} from the IoT`, 'unexpected');
    }
  }

  /**
   * The IoT wants the service to stop (STOP, or a `{"action":"stop"}` request already
   * settled by the caller): every request still waiting is answered `HREPLY 503` so the
   * IoT's HTTP clients are released and the replies stay in order, whatever is queued for
   * this connection goes out, then `DISCONNECT`, close, and no reconnect.
   */
  private onStop(): void {
    const sock = this.socket;
    for (const p of [...this.fifo]) if (p.answer === undefined) this.settle(p, encode.hreply(503, 'text/plain', 'service stopped'));
    if (sock && !sock.destroyed) {
      // Replies held back by a congested socket must precede the DISCONNECT; NOTIFYs stay
      // queued for the next connection.
      const keep: Outbound[] = [];
      for (const q of this.queue) {
        if (q.epoch === undefined) keep.push(q);
        else if (q.epoch === this.epoch) sock.write(q.text);
      }
      this.queue = keep;
    }
    this.clearConnection();
    this.setState({ state: 'stopped' });
    if (sock && !sock.destroyed) {
      sock.write(encode.disconnect());
      sock.end();
      const t = this.clock.setTimeout(() => sock.destroy(), 2000);
      sock.once('close', () => this.clock.clearTimeout(t));
    }
  }

  private onRequest(body: Body): void {
    this.counters.requests++;
    const action = body && typeof body === 'object' && !Array.isArray(body) && typeof body.action === 'string' ? body.action : undefined;
    const req: IsotelRequest = { id: this.nextId++, epoch: this.epoch, body, action, receivedAt: this.clock.now() };
    const entry: Pending = { req };
    this.fifo.push(entry);
    if (action === 'ident') {
      this.settle(entry, encode.ident(this.opts.ident));
      return;
    }
    if (action === 'stop') {
      // The relayed form of ?action=stop: answer it like the IoT's HTTP client expects, then stop as for STOP.
      this.settle(entry, encode.reply({ status: 'OK', action: 'stop' }));
      this.onStop();
      return;
    }
    if (action === 'status' && this.opts.answerStatus) {
      this.settle(entry, encode.reply(this.statusBody(1)));
      return;
    }
    if (this.listenerCount('request') === 0) {
      this.settle(entry, encode.hreply(503, 'text/plain', 'no flow handles requests for this service'));
      return;
    }
    entry.timer = this.clock.setTimeout(() => {
      if (entry.answer !== undefined) return;
      this.counters.timeouts++;
      this.emit('timeout', req);
      this.settle(entry, encode.hreply(504, 'text/plain', 'timeout'));
    }, this.opts.requestTimeoutMs);
    this.emit('request', req);
  }

  /** The body of the built-in `status` answer (`self` = requests not to count: the status request itself). */
  statusBody(self = 0): { [k: string]: Json } {
    return {
      status: 'OK',
      name: this.opts.ident.name,
      vendor: this.opts.ident.vendor,
      version: this.opts.ident.version,
      uptime: Math.round((this.clock.now() - this.startedAt) / 1000),
      subscriptions: [...this.subs.keys()],
      pendingRequests: Math.max(0, this.fifo.length - self),
      queued: this.queue.length,
      dropped: this.counters.dropped,
    };
  }
}
