/**
 * The connection lifecycle of the service's one TCP link to the IoT's "Service TCP server"
 * (see docs/isotel.md §6): connect with a timeout, TCP keep-alive, reconnect with the package
 * back-off (reset after a connection that lasted), a half-open check (written bytes that
 * never leave; optionally a silent peer), and the ways down — `stop` (the IoT asked),
 * `disconnect` (a command), `close` (for good) — each with an optional farewell written
 * before the socket ends. What is said on the link is the caller's ({@link LinkHooks}).
 * All timing goes through the injected {@link Clock}.
 */
import net from 'node:net';
import { Backoff, type BackoffOptions } from '../common/backoff';
import type { Clock, TimerHandle } from '../common/clock';

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

export interface LinkOptions {
  host: string;
  port: number;
  clock: Clock;
  backoff?: BackoffOptions;
  connectTimeoutMs: number;
  keepAliveMs: number;
  checkIntervalMs: number;
  stallTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface LinkHooks {
  /** Connected: say hello on `sock`; returns what the state reports as `subscriptions`. */
  up(sock: net.Socket): number;
  /** Bytes from the current socket. */
  data(chunk: Buffer, sock: net.Socket): void;
  /** The current socket can take more. */
  drain(): void;
  /** The current connection is over (whatever the reason): forget what was bound to it. */
  down(): void;
  state(s: LinkState): void;
  warn(message: string): void;
}

/** Connections that lasted at least this long reset the back-off. */
const STABLE_MS = 5000;
/** How long a socket that was ended may take to close before it is destroyed. */
const LINGER_MS = 2000;

export class IsotelLink {
  private current: LinkState = { state: 'idle' };
  private sock?: net.Socket;
  private up = false;
  private readonly backoff: Backoff;
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
  private lastError = '';
  private closing?: Promise<void>;
  /** Reconnections so far. */
  reconnects = 0;

  constructor(
    private readonly opts: LinkOptions,
    private readonly hooks: LinkHooks,
  ) {
    this.backoff = new Backoff({ initialMs: 1000, maxMs: 30000, factor: 2, jitter: 0.2, ...opts.backoff });
  }

  get state(): LinkState {
    return this.current;
  }

  get connected(): boolean {
    return this.up;
  }

  /** The socket of the current connection, while it is up. */
  get socket(): net.Socket | undefined {
    return this.up && this.sock && !this.sock.destroyed ? this.sock : undefined;
  }

  setState(s: LinkState): void {
    this.current = s;
    this.hooks.state(s);
  }

  /** Start (the first time) or reconnect now after stop / disconnect / while waiting to retry. */
  connect(): void {
    const st = this.current.state;
    if (st === 'closed' || st === 'connected' || st === 'connecting') return;
    this.cancelRetry();
    this.backoff.reset();
    this.open();
  }

  /** Down on command until `connect()`: the farewell, then end. */
  disconnect(farewell: string[]): void {
    if (this.current.state === 'closed') return;
    this.cancelRetry();
    this.shutdown(farewell);
    this.setState({ state: 'disconnected' });
  }

  /** Down because the IoT asked, until `connect()`: the farewell, then end. */
  stop(farewell: string[]): void {
    const sock = this.sock;
    const wasUp = this.up;
    this.clearConnection();
    this.setState({ state: 'stopped' });
    if (sock) this.end(sock, wasUp ? farewell : []);
  }

  /** Close for good: the farewell, end the socket, free every timer. */
  close(farewell: string[]): Promise<void> {
    if (this.closing) return this.closing;
    this.cancelRetry();
    const sock = this.sock;
    this.shutdown(farewell);
    this.setState({ state: 'closed' });
    this.closing = new Promise<void>((resolve) => {
      if (!sock || sock.destroyed) return resolve();
      const t = this.opts.clock.setTimeout(() => {
        sock.destroy();
        resolve();
      }, LINGER_MS);
      sock.once('close', () => {
        this.opts.clock.clearTimeout(t);
        resolve();
      });
    });
    return this.closing;
  }

  /** Reset the current connection (it reconnects): `reason` shows in the state. */
  drop(reason: string): void {
    if (this.sock) this.dropSocket(this.sock, reason);
  }

  private cancelRetry(): void {
    this.opts.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private open(): void {
    this.attempt++;
    this.setState({ state: 'connecting', attempt: this.attempt });
    const sock = net.connect({ host: this.opts.host, port: this.opts.port });
    this.sock = sock;
    this.connectTimer = this.opts.clock.setTimeout(() => {
      this.hooks.warn(`connect to ${this.opts.host}:${this.opts.port} timed out`);
      this.dropSocket(sock, 'connect timeout');
    }, this.opts.connectTimeoutMs);
    sock.on('connect', () => {
      if (this.sock !== sock) return;
      this.opts.clock.clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      sock.setKeepAlive(true, this.opts.keepAliveMs);
      sock.setNoDelay(true);
      this.onConnected(sock);
    });
    sock.on('data', (chunk: Buffer) => {
      if (this.sock !== sock) return;
      this.lastRx = this.opts.clock.now();
      this.hooks.data(chunk, sock);
    });
    sock.on('drain', () => {
      if (this.sock === sock && this.up) this.hooks.drain();
    });
    sock.on('error', (err) => {
      if (this.sock === sock) this.lastError = err.message;
    });
    sock.on('close', () => {
      if (this.sock === sock) this.onClosed(sock);
    });
  }

  private onConnected(sock: net.Socket): void {
    this.up = true;
    this.attempt = 0;
    this.connectedAt = this.opts.clock.now();
    this.lastRx = this.connectedAt;
    this.lastSent = sock.bytesWritten - sock.writableLength;
    this.lastProgress = this.connectedAt;
    const subscriptions = this.hooks.up(sock);
    this.checkTimer = this.opts.clock.setInterval(() => this.check(sock), this.opts.checkIntervalMs);
    this.setState({ state: 'connected', subscriptions });
  }

  /** Half-open detection: written bytes that never leave, or (optionally) a silent peer. */
  private check(sock: net.Socket): void {
    if (this.sock !== sock || !this.up) return;
    const now = this.opts.clock.now();
    const sent = sock.bytesWritten - sock.writableLength;
    if (sock.writableLength === 0 || sent !== this.lastSent) {
      this.lastProgress = now;
    } else if (now - this.lastProgress >= this.opts.stallTimeoutMs) {
      this.hooks.warn(`half-open link: ${sock.writableLength} bytes unsent for ${Math.round((now - this.lastProgress) / 1000)} s, reconnecting`);
      this.dropSocket(sock, 'half-open link');
      return;
    }
    this.lastSent = sent;
    if (this.opts.idleTimeoutMs > 0 && now - this.lastRx >= this.opts.idleTimeoutMs) {
      this.hooks.warn(`nothing received for ${Math.round((now - this.lastRx) / 1000)} s, reconnecting`);
      this.dropSocket(sock, 'idle link');
    }
  }

  private dropSocket(sock: net.Socket, reason: string): void {
    if (this.sock !== sock) return;
    this.lastError = reason;
    sock.destroy();
  }

  private clearConnection(): void {
    this.opts.clock.clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.opts.clock.clearInterval(this.checkTimer);
    this.checkTimer = undefined;
    this.up = false;
    this.sock = undefined;
    this.hooks.down();
  }

  private onClosed(sock: net.Socket): void {
    const wasUp = this.up;
    const lasted = wasUp ? this.opts.clock.now() - this.connectedAt : 0;
    this.clearConnection();
    sock.removeAllListeners('data');
    const st = this.current.state;
    if (st === 'closed' || st === 'stopped' || st === 'disconnected') return;
    if (lasted >= STABLE_MS) this.backoff.reset();
    const delay = this.backoff.next();
    this.reconnects++;
    const reason = this.lastError || (wasUp ? 'connection closed by the IoT' : 'connection failed');
    this.lastError = '';
    this.setState({ state: 'reconnecting', inMs: delay, reason });
    this.retryTimer = this.opts.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.open();
    }, delay);
  }

  /** End the current socket; when it was up, write the farewell first. */
  private shutdown(farewell: string[]): void {
    const sock = this.sock;
    const wasUp = this.up;
    this.clearConnection();
    if (!sock) return;
    if (wasUp && !sock.destroyed) this.end(sock, farewell);
    else sock.destroy();
  }

  private end(sock: net.Socket, farewell: string[]): void {
    if (sock.destroyed) return;
    for (const line of farewell) sock.write(line);
    sock.end();
    // A peer that never closes its side must not keep the socket alive.
    const t = this.opts.clock.setTimeout(() => sock.destroy(), LINGER_MS);
    sock.once('close', () => this.opts.clock.clearTimeout(t));
  }
}
