/**
 * The socket side of the HALO push receiver: a TCP server (many HALOs, many connections,
 * framed by the one {@link Framer}) or a UDP socket (one datagram = one message). It
 * enforces the allow list, a connection cap, an idle timeout and a per-message byte cap
 * (which also bounds each connection's buffer), and hands complete messages on as text.
 * Whatever a connection leaves unterminated when it ends — the peer closes or resets it,
 * it idles out, or the receiver closes — is handed on too, in every framing mode.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../common/clock';
import { Framer, type FramerOptions } from '../common/framer';
import { AllowList, normaliseAddress, remoteString } from './allow';
import { parseTemplate } from './template';

export type HaloFraming = 'newline' | 'delimiter' | 'json' | 'close';

export interface ReceiverOptions {
  transport: 'tcp' | 'udp';
  host?: string;
  port: number;
  framing?: HaloFraming;
  /** For `delimiter` framing; backslash escapes (`\n`, `\r`, `\t`, `\uXXXX`) are decoded. */
  delimiter?: string;
  maxMessageBytes?: number;
  /** Close a TCP connection after this long without data (0 = never). */
  idleTimeoutMs?: number;
  /**
   * Per-message deadline: most time from a message's first byte to its end (TCP; 0 = none).
   * A sender that trickles bytes keeps resetting the idle timer, never this one.
   */
  messageTimeoutMs?: number;
  /** Most simultaneous TCP connections; more are closed at once. */
  maxConnections?: number;
  allow?: AllowList;
  /** Drives the idle timeout and the message deadline (default: the system clock). */
  clock?: Clock;
}

export interface ReceiverHandlers {
  message(text: string, remote: string, address: string): void;
  /** A message over `maxMessageBytes` was dropped (TCP: the connection was closed). */
  oversize(remote: string, bytes: number): void;
  /** A sender not on the allow list was refused. */
  refused(address: string): void;
  /** Bytes that cannot start a JSON value (json framing). */
  garbage(text: string, remote: string, address: string): void;
  /** A TCP connection was closed because of the connection cap. */
  overCapacity?(remote: string): void;
  /** A message was not finished within the deadline: its connection was closed (what it sent is handed on). */
  slow?(remote: string, ms: number, bytes: number): void;
  connections?(count: number): void;
  error?(err: Error): void;
}

/** Decode the user's delimiter string (`\n`, `;`, `\r\n`, …). */
export function decodeDelimiter(text: string): string {
  return parseTemplate(text)
    .map((p) => (p.kind === 'text' ? p.text : `%${p.name}%`))
    .join('');
}

export class HaloReceiver {
  private readonly opts: Required<Omit<ReceiverOptions, 'allow' | 'delimiter' | 'clock'>> & { allow?: AllowList; delimiter: string };
  private readonly clock: Clock;
  private readonly h: ReceiverHandlers;
  private tcp?: net.Server;
  private udp?: dgram.Socket;
  /** Open connections: each one's framer, and what ends it (flush its unterminated tail, stop its idle timer). */
  private readonly sockets = new Map<net.Socket, { framer: Framer; finish: () => void }>();
  private boundPort = 0;

  constructor(opts: ReceiverOptions, handlers: ReceiverHandlers) {
    this.opts = {
      transport: opts.transport,
      host: opts.host && opts.host.trim() !== '' ? opts.host.trim() : '0.0.0.0',
      port: opts.port,
      framing: opts.framing ?? 'newline',
      delimiter: decodeDelimiter(opts.delimiter ?? ''),
      maxMessageBytes: opts.maxMessageBytes ?? 65536,
      idleTimeoutMs: opts.idleTimeoutMs ?? 300000,
      messageTimeoutMs: opts.messageTimeoutMs ?? 30000,
      maxConnections: opts.maxConnections ?? 100,
      allow: opts.allow,
    };
    this.clock = opts.clock ?? systemClock;
    if (this.opts.framing === 'delimiter' && this.opts.delimiter === '') throw new Error('delimiter framing needs a delimiter');
    this.h = handlers;
  }

  /** Open connections (TCP). */
  get connections(): number {
    return this.sockets.size;
  }

  /** Bytes received on open connections and not yet part of a message (unterminated tails). */
  get bufferedBytes(): number {
    let n = 0;
    for (const { framer } of this.sockets.values()) n += framer.buffered;
    return n;
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    return this.boundPort;
  }

  /** The terminators a message may still carry (for template matching). */
  get terminators(): string[] {
    return this.opts.framing === 'delimiter' ? [this.opts.delimiter] : [];
  }

  start(): Promise<void> {
    return this.opts.transport === 'udp' ? this.startUdp() : this.startTcp();
  }

  private allowed(address: string | undefined): boolean {
    if (!this.opts.allow || this.opts.allow.allows(address)) return true;
    this.h.refused(normaliseAddress(address ?? '?'));
    return false;
  }

  private startTcp(): Promise<void> {
    const server = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    this.tcp = server;
    return this.bindOnce(server, (ready) => server.listen(this.opts.port, this.opts.host, ready), () => {
      const a = server.address();
      return typeof a === 'object' && a ? a.port : this.opts.port;
    });
  }

  private framerFor(socket: net.Socket, remote: string, address: string, ended: () => void): Framer {
    const o = this.opts;
    const mode: FramerOptions['mode'] = o.framing === 'json' ? 'json' : o.framing === 'close' ? 'close' : 'delimiter';
    const delimiters = o.framing === 'delimiter' ? [o.delimiter] : ['\r\n', '\n'];
    return new Framer({
      mode,
      delimiters,
      maxMessageBytes: o.maxMessageBytes,
      onMessage: (b) => {
        ended();
        this.h.message(b.toString('utf8'), remote, address);
      },
      onOversize: (bytes) => {
        this.h.oversize(remote, bytes);
        socket.destroy();
      },
      onGarbage: (b) => {
        ended();
        this.h.garbage(b.toString('utf8'), remote, address);
      },
    });
  }

  private onConnection(socket: net.Socket): void {
    const address = normaliseAddress(socket.remoteAddress ?? '?');
    const remote = remoteString(socket.remoteAddress, socket.remotePort);
    socket.on('error', () => {
      /* resets from senders are normal; the close handler tidies up */
    });
    try {
      this.accept(socket, address, remote);
    } catch (e) {
      // Never let one connection's trouble escape the socket callback (it would stop Node-RED).
      socket.destroy();
      this.h.error?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private accept(socket: net.Socket, address: string, remote: string): void {
    if (!this.allowed(socket.remoteAddress)) {
      socket.destroy();
      return;
    }
    if (this.sockets.size >= this.opts.maxConnections) {
      this.h.overCapacity?.(remote);
      socket.destroy();
      return;
    }
    /** Messages the framer has ended so far (a chunk that ends one and starts the next restarts the deadline). */
    let messagesEnded = 0;
    const framer = this.framerFor(socket, remote, address, () => messagesEnded++);
    const clock = this.clock;
    const idleMs = this.opts.idleTimeoutMs;
    const deadlineMs = this.opts.messageTimeoutMs;
    let lastData = clock.now();
    let idleTimer: TimerHandle | undefined;
    /** When the message now in the framer started (its first byte), if one is open. */
    let messageStart: number | undefined;
    let deadlineTimer: TimerHandle | undefined;
    let ended = false;
    // The connection is over (peer end or reset, idle timeout, receiver closing): whatever
    // it left unterminated is still a message — never dropped silently, in any framing.
    const finish = (): void => {
      if (ended) return;
      ended = true;
      clock.clearTimeout(idleTimer);
      clock.clearTimeout(deadlineTimer);
      idleTimer = undefined;
      deadlineTimer = undefined;
      this.guard(() => framer.end());
    };
    this.sockets.set(socket, { framer, finish });
    this.h.connections?.(this.sockets.size);
    // Idle timeout on the injected clock: one timer per connection, re-armed for the rest
    // of the quiet time when it fires after data arrived (no timer churn per chunk).
    const armIdle = (ms: number): void => {
      idleTimer = clock.setTimeout(() => {
        idleTimer = undefined;
        if (ended) return;
        const quiet = clock.now() - lastData;
        if (quiet < idleMs) return armIdle(idleMs - quiet);
        finish();
        socket.destroy();
      }, ms);
    };
    if (idleMs > 0) armIdle(idleMs);
    // Message deadline, the same way: one timer, re-armed for the rest of the time of the
    // message open when it fires (the one it was armed for may have ended meanwhile).
    const armDeadline = (ms: number): void => {
      deadlineTimer = clock.setTimeout(() => {
        deadlineTimer = undefined;
        if (ended || messageStart === undefined) return;
        const open = clock.now() - messageStart;
        if (open < deadlineMs) return armDeadline(deadlineMs - open);
        this.h.slow?.(remote, open, framer.buffered);
        finish();
        socket.destroy();
      }, ms);
    };
    socket.on('data', (chunk: Buffer) => {
      if (ended) return;
      lastData = clock.now();
      const before = messagesEnded;
      this.guard(() => framer.push(chunk));
      if (deadlineMs <= 0) return;
      if (framer.buffered === 0 || messagesEnded !== before) messageStart = undefined;
      if (framer.buffered > 0 && messageStart === undefined) {
        messageStart = lastData;
        if (deadlineTimer === undefined) armDeadline(deadlineMs);
      }
    });
    socket.on('end', () => {
      finish();
      socket.end();
    });
    socket.on('close', () => {
      finish();
      if (this.sockets.delete(socket)) this.h.connections?.(this.sockets.size);
    });
  }

  private startUdp(): Promise<void> {
    const type = net.isIPv6(this.opts.host) ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type, reuseAddr: false });
    this.udp = sock;
    sock.on('message', (buf, rinfo) =>
      this.guard(() => {
        if (!this.allowed(rinfo.address)) return;
        const remote = remoteString(rinfo.address, rinfo.port);
        if (buf.length > this.opts.maxMessageBytes) {
          this.h.oversize(remote, buf.length);
          return;
        }
        this.h.message(buf.toString('utf8'), remote, normaliseAddress(rinfo.address));
      }),
    );
    return this.bindOnce(sock, (ready) => sock.bind(this.opts.port, this.opts.host, ready), () => sock.address().port);
  }

  /**
   * Bind `target` (a TCP server or a UDP socket) with `bind`: an error before it is bound
   * rejects (port in use), later errors go to the error handler; `port` reads the bound port.
   */
  private bindOnce(target: net.Server | dgram.Socket, bind: (ready: () => void) => void, port: () => number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      target.once('error', onError);
      bind(() => {
        target.off('error', onError);
        target.on('error', (err: Error) => this.h.error?.(err));
        this.boundPort = port();
        resolve();
      });
    });
  }

  /** Run a step of network input; a throw becomes an `error` report, never an uncaught exception. */
  private guard(step: () => void): void {
    try {
      step();
    } catch (e) {
      try {
        this.h.error?.(e instanceof Error ? e : new Error(String(e)));
      } catch {
        /* the report itself failed: nothing more can be done for this message */
      }
    }
  }

  /** Stop listening and drop every connection (handing on what each left unterminated). */
  close(): Promise<void> {
    const waits: Array<Promise<void>> = [];
    const open = [...this.sockets];
    this.sockets.clear();
    for (const [s, { finish }] of open) {
      finish();
      s.destroy();
    }
    if (this.tcp) {
      const srv = this.tcp;
      this.tcp = undefined;
      waits.push(new Promise((r) => srv.close(() => r())));
    }
    if (this.udp) {
      const u = this.udp;
      this.udp = undefined;
      waits.push(
        new Promise((r) => {
          try {
            u.close(() => r());
          } catch {
            r();
          }
        }),
      );
    }
    return Promise.all(waits).then(() => undefined);
  }
}
