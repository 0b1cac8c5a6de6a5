/**
 * The halo-in core: receiver (TCP/UDP) or HTTP request handler → decoder → messages for
 * output 1 (set/reset/unknown) and output 2 (heartbeats, watchdog online/offline), plus
 * the counters the node shows in its status. Framework-free; the node only wires it.
 */
import type { Clock } from '../common/clock';
import { AllowList, normaliseAddress, remoteString } from './allow';
import { HaloDecoder, type HaloDecoded, type HaloFormat } from './decode';
import { decodeDelimiter, HaloReceiver, type ReceiverOptions } from './receiver';
import { parseTemplate } from './template';
import { HeartbeatWatchdog, type OnlineChange } from './watchdog';

export type HaloTransport = 'tcp' | 'udp' | 'http';

/** The receiver's settings (framing, limits, timeouts: lib/halo/receiver.ts) plus what HaloInput adds. */
export interface HaloInputOptions extends Omit<ReceiverOptions, 'transport' | 'port' | 'allow' | 'clock'> {
  transport: HaloTransport;
  port?: number;
  /** Per-message deadline (TCP: first byte to end of a message; HTTP: of the request body). 0 = none. */
  messageTimeoutMs?: number;
  format?: HaloFormat;
  setTemplate?: string;
  resetTemplate?: string;
  heartbeatTemplate?: string;
  /** IPs/CIDRs, comma or space separated; empty = everyone. */
  allow?: string;
  /** Heartbeat interval in ms (0 = no watchdog). */
  heartbeatIntervalMs?: number;
  missedHeartbeats?: number;
  clock: Clock;
}

/** A message for a node output (the node adds `_msgid`). */
export interface HaloOutMessage {
  topic: string;
  payload: Record<string, unknown>;
  raw?: string;
}

export type HaloWarning =
  | { code: 'oversize'; remote: string; bytes: number; max: number }
  | { code: 'unknown'; remote: string; reason: string }
  | { code: 'refused'; address: string }
  | { code: 'capacity'; remote: string; max: number }
  | { code: 'slow'; remote: string; ms: number; bytes: number }
  | { code: 'unauthorised'; remote: string }
  | { code: 'failed'; remote: string; message: string }
  | { code: 'socket'; message: string };

export interface HaloInputHandlers {
  event(out: HaloOutMessage): void;
  health(out: HaloOutMessage): void;
  warn(w: HaloWarning): void;
  /** Something shown in the status changed. */
  changed?(): void;
}

export interface HaloHttpRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  body: string;
  remoteAddress?: string;
  remotePort?: number;
}

/**
 * The templates whose `%ALLSENSORSNL%` (one `SensorId=value` per line) would be cut into
 * pieces by the TCP framing: `newline` framing, or a delimiter that is a bare line feed,
 * ends a message at each of its line breaks. Checked at deploy so the node can say so.
 */
export function templatesSplitByFraming(
  opts: Pick<HaloInputOptions, 'transport' | 'framing' | 'delimiter' | 'setTemplate' | 'resetTemplate' | 'heartbeatTemplate'>,
): Array<'set' | 'reset' | 'heartbeat'> {
  if (opts.transport !== 'tcp') return [];
  const framing = opts.framing ?? 'newline';
  const endsAtLineFeed = framing === 'newline' || (framing === 'delimiter' && decodeDelimiter(opts.delimiter ?? '') === '\n');
  if (!endsAtLineFeed) return [];
  const out: Array<'set' | 'reset' | 'heartbeat'> = [];
  for (const [kind, template] of [
    ['set', opts.setTemplate],
    ['reset', opts.resetTemplate],
    ['heartbeat', opts.heartbeatTemplate],
  ] as const) {
    if (template && parseTemplate(template).some((p) => p.kind === 'token' && p.name === 'ALLSENSORSNL')) out.push(kind);
  }
  return out;
}

/** Most devices (and refused addresses) remembered, so memory stays bounded whatever arrives. */
export const MAX_TRACKED = 10000;

export class HaloInput {
  private readonly opts: HaloInputOptions;
  private readonly h: HaloInputHandlers;
  private readonly decoder: HaloDecoder;
  private readonly allow: AllowList;
  private readonly receiver?: HaloReceiver;
  private readonly watchdog?: HeartbeatWatchdog;
  private readonly devices = new Set<string>();
  private readonly maxBytes: number;
  /** Senders refused by the allow list (count of attempts). */
  refusedCount = 0;
  /** HTTP requests refused for missing or wrong credentials. */
  unauthorisedCount = 0;
  /** Messages handled (all kinds). */
  messageCount = 0;
  /** "<device>/<event> set" of the last event, for the status. */
  lastEvent: string | undefined;

  constructor(opts: HaloInputOptions, handlers: HaloInputHandlers) {
    this.opts = opts;
    this.h = handlers;
    this.maxBytes = opts.maxMessageBytes ?? 65536;
    this.allow = new AllowList(opts.allow); // throws on a bad entry: the node reports it
    if (opts.transport !== 'http') {
      this.receiver = new HaloReceiver(
        { ...opts, transport: opts.transport, port: opts.port ?? 0, maxMessageBytes: this.maxBytes, allow: this.allow },
        {
          message: (text, remote, address) => this.handle(text, undefined, remote, address),
          oversize: (remote, bytes) => this.h.warn({ code: 'oversize', remote, bytes, max: this.maxBytes }),
          refused: (address) => this.refused(address),
          garbage: (text, remote, address) => this.handle(text, undefined, remote, address),
          overCapacity: (remote) => this.h.warn({ code: 'capacity', remote, max: opts.maxConnections ?? 100 }),
          slow: (remote, ms, bytes) => this.h.warn({ code: 'slow', remote, ms, bytes }),
          connections: () => this.h.changed?.(),
          error: (err) => this.h.warn({ code: 'socket', message: err.message }),
        },
      );
    }
    this.decoder = new HaloDecoder({
      format: opts.format,
      setTemplate: opts.setTemplate,
      resetTemplate: opts.resetTemplate,
      heartbeatTemplate: opts.heartbeatTemplate,
      terminators: this.receiver?.terminators,
      http: opts.transport === 'http',
    });
    const interval = opts.heartbeatIntervalMs ?? 60000;
    if (interval > 0) {
      this.watchdog = new HeartbeatWatchdog({
        clock: opts.clock,
        intervalMs: interval,
        missed: Math.max(1, opts.missedHeartbeats ?? 3),
        onChange: (c) => this.online(c),
      });
    }
  }

  /** Start listening (TCP/UDP); a no-op for HTTP (the node mounts the route). */
  async start(): Promise<void> {
    if (this.receiver) await this.receiver.start();
  }

  get port(): number | undefined {
    return this.receiver?.port;
  }

  get connections(): number {
    return this.receiver?.connections ?? 0;
  }

  get deviceCount(): number {
    return this.devices.size;
  }

  /** Devices with a watchdog and their state. */
  deviceStates(): OnlineChange[] {
    return this.watchdog?.list() ?? [];
  }

  /** A refused sender: counted; the warning goes to the node's rate-limited warner like every other. */
  private refused(address: string): void {
    this.refusedCount++;
    this.h.warn({ code: 'refused', address });
    this.h.changed?.();
  }

  /** An HTTP request without the configured credentials (answered 401 by the caller). */
  unauthorised(req: { remoteAddress?: string; remotePort?: number }): void {
    this.unauthorisedCount++;
    this.h.warn({ code: 'unauthorised', remote: remoteString(req.remoteAddress, req.remotePort) });
    this.h.changed?.();
  }

  /** Is this HTTP sender allowed? (Counted and warned when not; the caller answers 403.) */
  allowsHttp(remoteAddress: string | undefined): boolean {
    if (this.allow.allows(remoteAddress)) return true;
    this.refused(normaliseAddress(remoteAddress ?? '?'));
    return false;
  }

  /** An HTTP body not finished within the deadline (answered 408 by the caller). */
  httpSlow(req: { remoteAddress?: string; remotePort?: number }, ms: number, bytes: number): void {
    this.h.warn({ code: 'slow', remote: remoteString(req.remoteAddress, req.remotePort), ms, bytes });
  }

  /**
   * One HTTP request from a HALO. Returns the status code to answer with: 200, or 403
   * for a refused sender, 413 for an oversize body.
   */
  handleHttp(req: HaloHttpRequest): number {
    if (!this.allowsHttp(req.remoteAddress)) return 403;
    const remote = remoteString(req.remoteAddress, req.remotePort);
    if (Buffer.byteLength(req.body) > this.maxBytes || req.url.length > this.maxBytes) {
      this.h.warn({ code: 'oversize', remote, bytes: Math.max(Buffer.byteLength(req.body), req.url.length), max: this.maxBytes });
      return 413;
    }
    let path = req.url;
    try {
      path = decodeURIComponent(req.url.replace(/\+/g, ' '));
    } catch {
      /* keep the raw path */
    }
    const raw = req.body.trim() !== '' ? req.body : path;
    return this.handle(raw, path, remote, normaliseAddress(req.remoteAddress ?? '?')) ? 200 : 500;
  }

  /** An HTTP body a middleware parsed into something that cannot be read safely: warn, answer 400. */
  httpUnreadable(req: { remoteAddress?: string; remotePort?: number }, reason: string): number {
    this.h.warn({ code: 'unknown', remote: remoteString(req.remoteAddress, req.remotePort), reason });
    return 400;
  }

  /** An HTTP body grew past `maxMessageBytes` while being read: warn, answer 413. */
  httpOversize(req: { remoteAddress?: string; remotePort?: number }, bytes: number): number {
    this.h.warn({ code: 'oversize', remote: remoteString(req.remoteAddress, req.remotePort), bytes, max: this.maxBytes });
    return 413;
  }

  /**
   * Decode one message and send it on. Whatever goes wrong on the way (a decoder bug, a
   * downstream node throwing inside `send`) is a warning for this message — never an exception
   * out of a socket or HTTP callback, which would stop Node-RED. False when it failed.
   */
  private handle(text: string, path: string | undefined, remote: string, address: string): boolean {
    try {
      this.dispatch(text, path, remote, address);
      return true;
    } catch (e) {
      try {
        this.h.warn({ code: 'failed', remote, message: e instanceof Error ? `${e.name}: ${e.message}` : 'error' });
      } catch {
        /* nothing more can be done for this message */
      }
      return false;
    }
  }

  private dispatch(text: string, path: string | undefined, remote: string, address: string): void {
    this.messageCount++;
    const receivedAt = this.opts.clock.now();
    const d: HaloDecoded = this.decoder.decode(path === undefined ? text : { text, path }, address);
    if (d.kind === 'heartbeat') {
      const { tokens, ...rest } = d;
      const tracked = this.noteDevice(d.device);
      this.h.health({ topic: `${d.device}/heartbeat`, payload: { ...rest, receivedAt, remote, tokens }, raw: text });
      if (tracked) this.watchdog?.beat(d.device);
      return;
    }
    if (d.kind === 'unknown') {
      const { tokens, reason, ...rest } = d;
      this.h.warn({ code: 'unknown', remote, reason });
      this.h.event({ topic: `${d.device}/unknown`, payload: { ...rest, reason, receivedAt, remote, tokens }, raw: text });
      return;
    }
    const { tokens, ...rest } = d;
    this.noteDevice(d.device);
    if (this.watchdog?.isOnline(d.device) !== undefined) this.watchdog.beat(d.device);
    this.lastEvent = `${d.device}/${d.event} ${d.kind}`;
    this.h.event({ topic: `${d.device}/${d.event}`, payload: { ...rest, receivedAt, remote, tokens }, raw: text });
    this.h.changed?.();
  }

  /** Remember a device; false once {@link MAX_TRACKED} devices are known and this one is new. */
  private noteDevice(device: string): boolean {
    if (this.devices.has(device)) return true;
    if (this.devices.size >= MAX_TRACKED) return false;
    this.devices.add(device);
    this.h.changed?.();
    return true;
  }

  private online(c: OnlineChange): void {
    this.h.health({ topic: `${c.device}/online`, payload: { device: c.device, online: c.online, lastSeen: c.lastSeen } });
    this.h.changed?.();
  }

  async close(): Promise<void> {
    // The receiver hands on what open connections left unterminated as it closes, so it
    // goes first: a heartbeat flushed then must not restart the watchdog after its close.
    const closing = this.receiver?.close();
    this.watchdog?.close();
    await closing;
  }
}
