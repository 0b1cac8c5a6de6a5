/**
 * The service side of the Isotel IoT Service API (see docs/isotel.md §1–§6): what the service says
 * and how it answers, over one TCP link to the IoT's "Service TCP server". The jobs live in
 * their own modules; this file wires them and dispatches what arrives:
 *
 * - {@link IsotelLink} (link.ts): connection lifecycle — connect, keep-alive, half-open
 *   check, reconnect with back-off, stop/disconnect/close.
 * - {@link OrderedReplies} (replies.ts): requests carry no id, so they are answered strictly
 *   in arrival order; a request left unanswered past `requestTimeoutMs` is answered
 *   `HREPLY 504`; references are unique in the process.
 * - {@link Subscriptions} (subscriptions.ts): `CONNECT <uri>` + options merged across owners,
 *   re-sent after every reconnect; SIGNALs and acknowledgements dispatched per owner.
 * - {@link OutboundQueue} (outbound.ts): bounded; NOTIFYs survive reconnects and are what an
 *   overflow drops, never a reply; a queue full of replies resets the link.
 *
 * Here: `IDENT` on every connect and whenever the IoT asks (`{"action":"ident"}` or `IDENT`);
 * `STOP` from the IoT, or a relayed `{"action":"stop"}` request (answered
 * `REPLY {"status":"OK","action":"stop"}`): requests still waiting are answered `HREPLY 503`
 * in order, then `DISCONNECT`, close, and down until {@link IsotelClient.connect}. No throw
 * while a message is handled escapes into the socket's handler. All timing goes through the
 * injected {@link Clock}.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { BackoffOptions } from '../common/backoff';
import { systemClock, type Clock } from '../common/clock';
import type { Json } from '../common/json';
import { defaultMime, encode, interpret, IsotelDecoder, MAX_MESSAGE_BYTES, parseBody, type Body, type ConnectOptions, type Frame, type IdentBody, type IsotelMessage, type NotifyBody } from './codec';
import { IsotelLink, type LinkState } from './link';
import { OutboundQueue } from './outbound';
import { OrderedReplies, type AnswerResult, type IsotelRequest, type Pending, type RequestRef } from './replies';
import { Subscriptions, type SubscriptionOwner, type SubscriptionStatus } from './subscriptions';

export type { LinkState } from './link';
export type { AnswerResult, IsotelRequest, RequestRef } from './replies';
export { mergeConnectOptions, type SubscriptionOwner } from './subscriptions';

/** How to answer a request. */
export type Answer = { kind: 'reply'; body: unknown } | { kind: 'hreply'; status: number; mime?: string; body: unknown } | { kind: 'ident' };

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
  /**
   * Most requests the flow may owe answers for at once (default 256); a request beyond it is
   * answered `HREPLY 503` at once instead of flooding the flow.
   */
  maxPendingRequests?: number;
  maxMessageBytes?: number;
  clock?: Clock;
}

/** The categories of warnings the client emits (never a peer-chosen string). */
export type WarningKind = 'malformed' | 'oversize' | 'invalid' | 'unexpected' | 'queue' | 'options' | 'link' | 'handler' | 'busy';

type Events = {
  state: [LinkState];
  request: [IsotelRequest];
  /** Every SIGNAL for a subscribed URI (the owners got theirs already). */
  signal: [string, Body];
  /** A CONNECT acknowledgement: uri, accepted, the status body (the owners got theirs already). */
  subscription: [string, boolean, Body];
  /** A request was answered 504 because nothing replied in time. */
  timeout: [IsotelRequest];
  /** A warning and its kind (a fixed category, for rate limiting). */
  warning: [string, WarningKind];
};

/** Bytes decoded between two looks at the clock ({@link IsotelClient.feed}). */
const SLICE_BYTES = 16 * 1024;
/** How long one turn of the event loop may spend decoding before the rest waits for the next. */
const TURN_BUDGET_MS = 10;

export class IsotelClient extends EventEmitter<Events> {
  readonly opts: Required<Omit<IsotelClientOptions, 'backoff' | 'clock'>>;
  private readonly clock: Clock;
  private readonly link: IsotelLink;
  private readonly replies: OrderedReplies;
  private readonly subs: Subscriptions;
  private readonly queue: OutboundQueue;
  /** One per connection: nothing of an older connection's stream (an unfinished or oversize message) carries over. */
  private decoder: IsotelDecoder;
  /** The current connection's chunks are decoded in slices ({@link feed}); a new one starts so until a chunk proves cheap. */
  private costly = true;
  private readonly counters = { requests: 0, timeouts: 0, signals: 0, notifies: 0, dropped: 0 };
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
      maxPendingRequests: Math.max(1, opts.maxPendingRequests ?? 256),
      maxMessageBytes: opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
    };
    const clock = (this.clock = opts.clock ?? systemClock);
    this.startedAt = clock.now();
    this.queue = new OutboundQueue(this.opts.queueLimit);
    this.replies = new OrderedReplies({
      clock,
      timeoutMs: this.opts.requestTimeoutMs,
      send: (text, epoch) => this.write(text, epoch),
      onTimeout: (req) => {
        this.counters.timeouts++;
        this.emit('timeout', req);
        return encode.hreply(504, 'text/plain', 'timeout');
      },
    });
    this.subs = new Subscriptions({
      send: (text) => {
        if (this.link.connected) this.write(text, this.replies.currentEpoch);
      },
      changed: () => {
        const st = this.link.state;
        if (st.state === 'connected' && st.subscriptions !== this.subs.size) this.link.setState({ state: 'connected', subscriptions: this.subs.size });
      },
      warn: (w, kind) => this.emit('warning', w, kind),
    });
    this.decoder = this.newDecoder();
    this.link = new IsotelLink(
      { ...this.opts, clock, backoff: opts.backoff },
      {
        up: (sock) => {
          this.decoder = this.newDecoder();
          this.costly = true;
          this.replies.open();
          this.queue.forgetConnections();
          sock.write(encode.ident(this.opts.ident));
          for (const line of this.subs.greeting()) sock.write(line);
          this.queue.flush(sock, this.replies.currentEpoch);
          return this.subs.size;
        },
        data: (chunk, sock) => this.feed(chunk, sock),
        drain: () => {
          const sock = this.link.socket;
          if (sock) this.queue.flush(sock, this.replies.currentEpoch);
        },
        down: () => this.replies.clear(),
        state: (s) => this.emit('state', s),
        warn: (w) => this.emit('warning', w, 'link'),
      },
    );
  }

  /**
   * Decode a socket chunk without holding the event loop. A connection whose chunks prove
   * costly (a chunk took over half of {@link TURN_BUDGET_MS}: many small requests or SIGNALs,
   * each one a message into the flow) has its chunks decoded in slices, and when one turn has
   * taken the budget the socket is paused and the rest waits for the next turn — so a flood
   * cannot stall Node-RED chunk after chunk. Cheap traffic is decoded a chunk at a time (one
   * look at the clock per chunk) once a chunk proved cheap; a new connection starts sliced.
   */
  private feed(chunk: Buffer, sock: Socket): void {
    const decoder = this.decoder;
    const started = performance.now();
    if (!this.costly || chunk.length <= SLICE_BYTES) {
      decoder.push(chunk);
      this.costly = performance.now() - started > TURN_BUDGET_MS / 2;
      return;
    }
    let offset = 0;
    let spentAll = 0;
    const step = (): void => {
      if (decoder !== this.decoder || sock.destroyed) return; // the connection is gone
      const turn = performance.now();
      while (offset < chunk.length) {
        const end = Math.min(chunk.length, offset + SLICE_BYTES);
        decoder.push(chunk.subarray(offset, end));
        offset = end;
        const spent = performance.now() - turn;
        if (offset < chunk.length && spent >= TURN_BUDGET_MS) {
          spentAll += spent;
          sock.pause();
          setImmediate(step);
          return;
        }
      }
      spentAll += performance.now() - turn;
      this.costly = spentAll > TURN_BUDGET_MS / 4;
      if (sock.isPaused()) sock.resume();
    };
    step();
  }

  private newDecoder(): IsotelDecoder {
    return new IsotelDecoder({
      maxMessageBytes: this.opts.maxMessageBytes,
      onFrame: (f) => this.onFrameGuarded(f),
      onOversize: (n) => {
        this.emit('warning', `a message grew past ${this.opts.maxMessageBytes} bytes without a terminator (${n} bytes): dropped, connection reset`, 'oversize');
        this.link.drop('oversize message');
      },
    });
  }

  get state(): LinkState {
    return this.link.state;
  }

  get isConnected(): boolean {
    return this.link.connected;
  }

  get stats(): ClientStats {
    return { ...this.counters, replies: this.replies.written, queued: this.queue.length, reconnects: this.link.reconnects };
  }

  /** Parameter URIs currently wanted, with their last known CONNECT status. */
  get subscriptions(): Map<string, SubscriptionStatus> {
    return this.subs.statuses();
  }

  /** Requests waiting for an answer (or for an earlier one). */
  get pendingRequests(): number {
    return this.replies.pending;
  }

  /** Start (the first time) or reconnect now after STOP / `disconnect()` / while waiting to retry. */
  connect(): void {
    this.link.connect();
  }

  /** Graceful stop on command: DISCONNECT each parameter and the service, close, stay down. */
  disconnect(): void {
    this.link.disconnect(this.farewell());
  }

  /** Close for good (node close): DISCONNECT, end the socket, free every timer. */
  close(): Promise<void> {
    return this.link.close(this.farewell());
  }

  private farewell(): string[] {
    return [...this.subs.farewell(), encode.disconnect()];
  }

  // ---- subscriptions -------------------------------------------------------------------

  /**
   * Subscribe `owner` to `uri` with its CONNECT options. Several owners of one URI share one
   * subscription with their options merged ({@link mergeConnectOptions}); a change of the
   * merged options is sent as a new CONNECT. SIGNALs and acknowledgements of `uri` go to the
   * owner's handlers (an owner given as a bare id only counts; the events still carry them).
   */
  subscribe(uri: string, options: ConnectOptions | undefined, owner: SubscriptionOwner | string): void {
    this.subs.add(uri, options, typeof owner === 'string' ? { id: owner } : owner);
  }

  /** Drop `owner` from `uri`: DISCONNECT when it was the last, else the rest's merged options. */
  unsubscribe(uri: string, owner: string): void {
    this.subs.remove(uri, owner);
  }

  /** Drop `owner` from every URI it subscribed to. */
  unsubscribeAll(owner: string): void {
    this.subs.removeOwner(owner);
  }

  // ---- outbound ------------------------------------------------------------------------

  /** NOTIFY the IoT activity log; queued while the link is down ('dropped' when the queue is full of replies). */
  notify(body: NotifyBody): 'sent' | 'queued' | 'dropped' {
    this.counters.notifies++;
    return this.write(encode.notify(body));
  }

  /** Answer a request. Answers go out in request order. */
  answer(ref: RequestRef, answer: Answer): AnswerResult {
    const entry = this.replies.find(ref, this.link.connected);
    if (typeof entry === 'string') return entry;
    this.replies.settle(entry, this.encodeAnswer(answer));
    return 'accepted';
  }

  private encodeAnswer(a: Answer): string {
    if (a.kind === 'ident') return encode.ident(this.opts.ident);
    if (a.kind === 'reply') return encode.reply(a.body);
    const body = a.body === undefined ? null : a.body;
    return encode.hreply(a.status, a.mime ?? defaultMime(body as Json), body);
  }

  /**
   * Write now when possible, otherwise queue ({@link OutboundQueue}: on overflow the oldest
   * NOTIFY goes; when there is none the link is reset instead — the IoT's pending requests
   * then die with the connection rather than get each other's replies).
   */
  private write(text: string, epoch?: number): 'sent' | 'queued' | 'dropped' {
    const s = this.link.socket;
    // Bound to a connection that is gone (or going): worthless.
    if (epoch !== undefined && (epoch !== this.replies.currentEpoch || !s)) return 'dropped';
    if (s && this.queue.length === 0 && !s.writableNeedDrain) {
      s.write(text);
      return 'sent';
    }
    const r = this.queue.push({ text, epoch });
    if (r.kind === 'queued') return 'queued';
    if (r.kind === 'evicted') {
      this.counters.dropped++;
      this.emit('warning', `outbound queue full (${this.opts.queueLimit}): oldest NOTIFY dropped (${this.counters.dropped} dropped so far)`, 'queue');
      return r.self ? 'dropped' : 'queued';
    }
    this.emit('warning', `outbound queue full (${this.opts.queueLimit}) of replies the IoT does not take (${r.waiting} waiting): link reset rather than drop one and misalign the replies after it`, 'queue');
    this.link.drop('outbound queue full of replies');
    return 'dropped';
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
      try {
        this.emit('warning', `a ${f.keyword ?? 'request'} message could not be handled: ${err instanceof Error ? err.message : String(err)}`, 'handler');
      } catch {
        // a warning listener that throws too: nothing more to tell
      }
    }
  }

  private onFrame(f: Frame): void {
    if (f.keyword === 'SIGNAL' && f.uri !== undefined) {
      // The hot path: parse the data only when someone subscribed to this URI.
      this.counters.signals++;
      // The subscription's own URI string: f.uri is a slice of a whole socket chunk.
      // (its `uri` is its own string, not a slice of the socket chunk like f.uri)
      const sub = this.subs.byUri.get(f.uri);
      if (sub === undefined) return;
      const { body, malformed, reason } = parseBody(f.text);
      if (malformed) this.emit('warning', `SIGNAL ${sub.uri}: malformed JSON data, passed on as text (${reason})`, 'malformed');
      this.subs.signal(sub, body);
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
        const status = m.body && typeof m.body === 'object' && !Array.isArray(m.body) ? m.body.status : m.body;
        const ok = typeof status === 'string' && status.toUpperCase() === 'OK';
        this.subs.acknowledge(m.uri, ok, m.body);
        this.emit('subscription', m.uri, ok, m.body);
        return;
      }
      case 'disconnect': {
        const body = m.body ?? 'disconnected by the IoT';
        if (m.uri && this.subs.acknowledge(m.uri, false, body)) this.emit('subscription', m.uri, false, body);
        return;
      }
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
    this.replies.settleAll(encode.hreply(503, 'text/plain', 'service stopped'));
    const sock = this.link.socket;
    // Replies held back by a congested socket must precede the DISCONNECT; NOTIFYs stay
    // queued for the next connection.
    if (sock) this.queue.flushConnection(sock, this.replies.currentEpoch);
    this.link.stop([encode.disconnect()]);
  }

  private onRequest(body: Body): void {
    this.counters.requests++;
    const action = body && typeof body === 'object' && !Array.isArray(body) && typeof body.action === 'string' ? body.action : undefined;
    const entry: Pending = this.replies.add(body, action);
    if (action === 'ident') {
      this.replies.settle(entry, encode.ident(this.opts.ident));
      return;
    }
    if (action === 'stop') {
      // The relayed form of ?action=stop: answer it like the IoT's HTTP client expects, then stop as for STOP.
      this.replies.settle(entry, encode.reply({ status: 'OK', action: 'stop' }));
      this.onStop();
      return;
    }
    if (action === 'status' && this.opts.answerStatus) {
      this.replies.settle(entry, encode.reply(this.statusBody(1)));
      return;
    }
    if (this.listenerCount('request') === 0) {
      this.replies.settle(entry, encode.hreply(503, 'text/plain', 'no flow handles requests for this service'));
      return;
    }
    if (this.replies.unanswered >= this.opts.maxPendingRequests) {
      this.emit('warning', `${this.replies.unanswered} requests are waiting for the flow (the most allowed): request answered HREPLY 503`, 'busy');
      this.replies.settle(entry, encode.hreply(503, 'text/plain', 'busy: too many requests waiting for an answer'));
      return;
    }
    this.replies.expire(entry);
    this.emit('request', entry.req);
  }

  /** The body of the built-in `status` answer (`self` = requests not to count: the status request itself). */
  statusBody(self = 0): { [k: string]: Json } {
    return {
      status: 'OK',
      name: this.opts.ident.name,
      vendor: this.opts.ident.vendor,
      version: this.opts.ident.version,
      uptime: Math.round((this.clock.now() - this.startedAt) / 1000),
      subscriptions: this.subs.uris(),
      pendingRequests: Math.max(0, this.replies.pending - self),
      queued: this.queue.length,
      dropped: this.counters.dropped,
    };
  }
}
