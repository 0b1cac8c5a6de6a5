/**
 * A HALO in software (the core of `bin/halo-sim`): a device with the 26 factory events and
 * a set of sensors; it pushes token-expanded set/reset/heartbeat strings over TCP, UDP or
 * HTTP(S) (the HALO's HTTP string syntax included), serves the Event Data URL
 * (`event_state`, event definitions) over HTTP/HTTPS with Basic or Digest auth, and takes
 * commands on a small HTTP control port. Expansion goes through the one template engine.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../common/clock';
import {
  formatActive,
  formatAllSensors,
  formatAllSensorsAt,
  formatAllSensorsNL,
  formatEvents,
  formatEventVals,
  type EventReading,
} from './aggregates';
import { RECOMMENDED_TEMPLATES } from './decode';
import { ServerAuth, type DigestAlgorithm, type ServerAuthMode } from '../common/digest';
import { parseHttpString } from './httpstring';
import { SIM_CERT, SIM_KEY } from './simcert';
import { expandTemplate, parseTemplate, type TemplatePart } from './template';
import type { TokenValues } from './tokens';

export interface SimEvent {
  id: string;
  group: number;
  source: string;
  threshold: number;
  operator: 'gte' | 'lte';
  baseline: number;
  value: number;
  active: boolean;
  changedAt: number;
  startedAt: number;
}

type EventDef = [id: string, group: number, source: string, threshold: number, operator: 'gte' | 'lte', baseline: number];

/** Factory events (docs/halo.md §7) with plausible sources, thresholds and quiet-room values. */
const FACTORY_EVENTS: EventDef[] = [
  ['Vape', 1, 'pmsensor/raw/2', 5, 'gte', 0.4],
  ['THC', 1, 'pmsensor/raw/2', 5, 'gte', 0.2],
  ['Masking', 1, 'pmsensor/raw/2', 5, 'gte', 0.1],
  ['Smoking', 2, 'pmsensor/raw/2', 5, 'gte', 0.3],
  ['Gunshot', 4, 'audsensor/gs', 50, 'gte', 0],
  ['Aggression', 4, 'audsensor/rms0', 60, 'gte', 8],
  ['Tamper', 4, 'accsensor/move', 1400, 'gte', 3],
  ['Help', 4, 'audsensor/kw1', 50, 'gte', 0],
  ['Motion', 4, 'pir/max', 50, 'gte', 4],
  ['Health_Index', 8, 'HealthIndex/val', 3, 'gte', 1],
  ['AQI', 8, 'AQI/value', 51, 'gte', 22],
  ['PM2.5', 8, 'pmsensor/raw/1', 35, 'gte', 4.2],
  ['TVOC', 8, 'gassensor/tvoc', 1000, 'gte', 120],
  ['CO2cal', 8, 'co2sensor/co2', 1000, 'gte', 612],
  ['Humidity', 8, 'htsensor/humidity', 60, 'gte', 41.5],
  ['Temp_C', 8, 'htsensor/ctemp', 26.7, 'gte', 21.3],
  ['PM1', 16, 'pmsensor/raw/0', 50, 'gte', 2.1],
  ['PM10', 16, 'pmsensor/raw/2', 150, 'gte', 6.3],
  ['Humidity_Low', 16, 'htsensor/humidity', 20, 'lte', 41.5],
  ['Temp_C_Low', 16, 'htsensor/ctemp', 15, 'lte', 21.3],
  ['NO2', 16, 'gassensor/no2', 100, 'gte', 12],
  ['Pressure', 16, 'pressure/hpa', 1050, 'gte', 1013.2],
  ['Light', 16, 'luxsensor/aluxfilt', 100, 'gte', 46.8],
  ['Sound', 16, 'audsensor/sum', 110, 'gte', 48.8],
  ['CO', 16, 'gassensor/co', 35, 'gte', 0.06],
  ['NH3', 16, 'gassensor/nh3', 50, 'gte', 1.4],
];

const FACTORY_SENSORS: Record<string, number> = {
  C: 21.3,
  F: 70.3,
  RH: 41.5,
  Lux: 46.8,
  TVOC: 120,
  CO2cal: 612,
  CO2eq: 640,
  PM1: 2.1,
  'PM2.5': 4.2,
  PM10: 6.3,
  NH3: 1.4,
  NO2: 12,
  CO: 0.06,
  AQI: 22,
  HI: 1,
  Noise: 48.8,
  Motion: 4,
  Move: 3,
  'P-hPa': 1013.2,
  PEOPLE: 0,
};

export interface SimDevice {
  name: string;
  ip: string;
  mac: string;
  fwver: string;
  addr?: string;
  wing?: string;
  floor?: string;
  room?: string;
  desc?: string;
  lat?: string;
  lon?: string;
  prscnt?: string;
  user?: string;
  pswd?: string;
}

/** `11/23/2025` and `5:41:08 PM`, the style the HALO help page shows. */
export function haloDate(d: Date): string {
  return `${d.getMonth() + 1}/${d.getDate()}/${d.getFullYear()}`;
}

export function haloTime(d: Date): string {
  const h = d.getHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const mm = String(d.getMinutes()).padStart(2, '0');
  const ss = String(d.getSeconds()).padStart(2, '0');
  return `${h12}:${mm}:${ss} ${h < 12 ? 'AM' : 'PM'}`;
}

/** The device model: events, sensors and the token values they expand to. */
export class HaloSimState {
  readonly device: SimDevice;
  readonly events: SimEvent[];
  readonly sensors: Record<string, number>;
  private readonly clock: Clock;

  constructor(device: Partial<SimDevice> = {}, clock: Clock = systemClock) {
    this.clock = clock;
    this.device = { name: 'HALO-Sim', ip: '127.0.0.1', mac: 'AABBCCDDEEFF', fwver: '2.15.0.13.477-3', ...device };
    const now = clock.now();
    this.events = FACTORY_EVENTS.map(([id, group, source, threshold, operator, baseline]) => ({
      id,
      group,
      source,
      threshold,
      operator,
      baseline,
      value: baseline,
      active: false,
      changedAt: now,
      startedAt: 0,
    }));
    this.sensors = { ...FACTORY_SENSORS };
  }

  find(id: string): SimEvent | undefined {
    return this.events.find((e) => e.id === id) ?? this.events.find((e) => e.id.toLowerCase() === id.toLowerCase());
  }

  /** Set an event (value above its threshold unless given). Returns it, or undefined if unknown. */
  set(id: string, value?: number): SimEvent | undefined {
    const e = this.find(id);
    if (!e) return undefined;
    const now = this.clock.now();
    e.value = value ?? (e.operator === 'lte' ? e.threshold * 0.8 : e.threshold === 0 ? 1 : Math.round(e.threshold * 1.25 * 100) / 100);
    if (!e.active) e.startedAt = now;
    e.active = true;
    e.changedAt = now;
    return e;
  }

  reset(id: string): SimEvent | undefined {
    const e = this.find(id);
    if (!e) return undefined;
    e.value = e.baseline;
    e.active = false;
    e.changedAt = this.clock.now();
    return e;
  }

  /** Small random drift of the quiet values (demo liveliness). */
  drift(random: () => number = Math.random): void {
    for (const k of Object.keys(this.sensors)) {
      const v = this.sensors[k];
      if (v === 0 || k === 'PEOPLE') continue;
      this.sensors[k] = Math.round(v * (1 + (random() - 0.5) * 0.02) * 100) / 100;
    }
    for (const e of this.events) {
      if (!e.active && e.baseline !== 0) e.value = Math.round(e.baseline * (1 + (random() - 0.5) * 0.04) * 100) / 100;
    }
  }

  readings(): EventReading[] {
    return this.events.map((e) => ({ id: e.id, value: e.value, active: e.active }));
  }

  /** Every token's value; event tokens when `event` is given. `%UID%`, `%BUTTON%`, AmpX stay literal. */
  tokenValues(event?: SimEvent, opts: { simulated?: boolean } = {}): TokenValues {
    const d = this.device;
    const now = new Date(this.clock.now());
    const r = this.readings();
    const v: Record<string, string | undefined> = {
      NAME: d.name,
      IP: d.ip,
      MAC: d.mac,
      DATE: haloDate(now),
      TIME: haloTime(now),
      ADDR: d.addr ?? '',
      WING: d.wing ?? '',
      FLOOR: d.floor ?? '',
      ROOM: d.room ?? '',
      PRSCNT: d.prscnt ?? '',
      LON: d.lon ?? '',
      LAT: d.lat ?? '',
      DESC: d.desc ?? '',
      FWVER: d.fwver,
      EVENTS: formatEvents(r),
      EVENTVALS: formatEventVals(r),
      ACTIVE: formatActive(r),
      ALLSENSORS: formatAllSensors(this.sensors),
      'ALLSENSORS@': formatAllSensorsAt(this.sensors),
      ALLSENSORSNL: formatAllSensorsNL(this.sensors),
      USER: d.user,
      PSWD: d.pswd,
    };
    for (const [k, x] of Object.entries(this.sensors)) v[`SENSOR:${k}`] = String(x);
    if (event) {
      v.EID = event.id;
      v.SOURCE = event.source;
      v.OPERATOR = event.operator;
      v.THR = String(event.threshold);
      v.VAL = String(Math.round(event.value * 100) / 100);
      v.SIM = opts.simulated ? 'SIMULATED' : '';
    }
    return v;
  }

  /** `GET /api/config/gstate/event_state` (docs/halo.md §6.3, fields as in the real dump). */
  eventStateJson(): Record<string, unknown> {
    const now = this.clock.now();
    const out: Record<string, unknown> = { $info$: { name: this.device.name, mac: this.device.mac }, $clock$: now };
    for (const e of this.events) {
      const set = e.active ? 1 : 0;
      out[e.id] = {
        val: e.value,
        rawval: e.value,
        above: e.operator === 'lte' ? e.value <= e.threshold : e.value >= e.threshold,
        msg_set: set,
        msg2_set: 0,
        msg_changed: e.changedAt,
        em_set: 0,
        log_set: set,
        started: e.active ? e.startedAt : 0,
        didhappen: e.startedAt > 0,
        stretch: 30,
        numeric: true,
        inuse: true,
        err: 0,
      };
    }
    return out;
  }

  /** `GET /api/config/gstate/config/eventgen/events`: the event definitions. */
  eventDefsJson(): Array<Record<string, unknown>> {
    return this.events.map((e, i) => ({
      id: e.id,
      enabled: true,
      group: e.group,
      source: e.source,
      threshold: e.threshold,
      operator: e.operator,
      hyst: 0,
      conditions: '',
      order: i,
      vmsset: true,
      vmsrst: true,
      vmsset2: false,
      vmsrst2: false,
    }));
  }

  state(): Record<string, unknown> {
    return {
      device: this.device,
      active: this.events.filter((e) => e.active).map((e) => e.id),
      events: Object.fromEntries(this.events.map((e) => [e.id, { value: e.value, active: e.active, threshold: e.threshold }])),
      sensors: this.sensors,
    };
  }
}

// ---- pushing messages ------------------------------------------------------------------

export type PushKind = 'set' | 'reset' | 'heartbeat';

export interface PushTarget {
  protocol: 'tcp' | 'udp' | 'http' | 'https';
  host: string;
  port: number;
  /** http(s): the URL to POST to when a template is not itself an HTTP string. */
  url?: string;
}

/** `tcp://h:p`, `udp://h:p`, `http(s)://h:p/path`. */
export function parseTarget(text: string): PushTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`bad target "${text}" (expected tcp://host:port, udp://host:port or http(s)://host:port/path)`);
  }
  const protocol = u.protocol.replace(':', '');
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'http' && protocol !== 'https') throw new Error(`unsupported target protocol in "${text}"`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || (protocol === 'https' ? 443 : protocol === 'http' ? 80 : 0));
  if (!(port > 0)) throw new Error(`target "${text}" needs a port`);
  return { protocol, host, port, url: protocol === 'http' || protocol === 'https' ? u.toString() : undefined };
}

/**
 * The JSON shapes partner integrations (VMS, access control) configure a HALO's HTTP push
 * with, as HALO strings: a flat object with camelCase keys, and a nested one with the event
 * and the device identity in sub-objects beside a status word and the value. halo-in reads
 * both by well-known keys (`format: auto`/`json`) without a template.
 */
export const PARTNER_TEMPLATES = {
  flat: {
    set: '{"sensorName":"%NAME%","macAddress":"%MAC%","ipAddress":"%IP%","eventType":"%EID%","status":"Set","value":"%VAL%","localEventDate":"%DATE%","localEventTime":"%TIME%"}',
    reset: '{"sensorName":"%NAME%","macAddress":"%MAC%","ipAddress":"%IP%","eventType":"%EID%","status":"Reset","value":"%VAL%","localEventDate":"%DATE%","localEventTime":"%TIME%"}',
  },
  nested: {
    set: '{"data":{"event":{"id":"%EID%","threshold":"%THR%"},"device":{"name":"%NAME%","mac":"%MAC%","ip":"%IP%"},"status":"Set","value":"%VAL%"}}',
    reset: '{"data":{"event":{"id":"%EID%","threshold":"%THR%"},"device":{"name":"%NAME%","mac":"%MAC%","ip":"%IP%"},"status":"Reset","value":"%VAL%"}}',
  },
} as const;

export type PushShape = 'recommended' | keyof typeof PARTNER_TEMPLATES;

export interface PushResult {
  target: string;
  ok: boolean;
  error?: string;
  status?: number;
}

export interface HaloSimOptions {
  device?: Partial<SimDevice>;
  targets?: PushTarget[];
  templates?: Partial<Record<PushKind, string>>;
  /** http(s) pushes: send these as HTTP Basic credentials (the access key and secret a receiver asks for). */
  pushAuth?: { username: string; password: string };
  /** tcp: keep one connection per target open (default: a new connection per message). */
  tcpKeepOpen?: boolean;
  /** Heartbeat every N ms (0 = off). */
  heartbeatMs?: number;
  /** Demo traffic: every N ms set the next event of `cycleEvents`, reset it N/2 ms later (0 = off). */
  cycleMs?: number;
  cycleEvents?: string[];
  /** Event Data URL server. */
  serve?: { httpPort?: number; httpsPort?: number; host?: string; auth?: ServerAuthMode; username?: string; password?: string; algorithms?: DigestAlgorithm[] };
  controlPort?: number;
  controlHost?: string;
  clock?: Clock;
  log?: (line: string) => void;
}

/** A running simulated HALO. */
export class HaloSim {
  readonly state: HaloSimState;
  private readonly o: HaloSimOptions;
  private readonly clock: Clock;
  private readonly templates: Record<PushKind, TemplatePart[]>;
  private readonly servers: Array<http.Server | https.Server> = [];
  private readonly timers: TimerHandle[] = [];
  private readonly oneShots = new Set<TimerHandle>();
  private readonly tcpConns = new Map<string, net.Socket>();
  private udp?: dgram.Socket;
  private readonly agentHttp = new http.Agent({ keepAlive: false });
  private readonly agentHttps = new https.Agent({ keepAlive: false, rejectUnauthorized: false });
  private auth?: ServerAuth;
  private cycleIndex = 0;
  private closed = false;
  /** Ports actually bound (useful when 0 was asked for). */
  ports: { http?: number; https?: number; control?: number } = {};
  /** Event Data URL requests served (authenticated ones). */
  served = 0;
  /** HTTP requests received by the Event Data URL server, 401s included. */
  requests = 0;

  constructor(opts: HaloSimOptions = {}) {
    this.o = opts;
    this.clock = opts.clock ?? systemClock;
    this.state = new HaloSimState(opts.device, this.clock);
    this.templates = {
      set: parseTemplate(opts.templates?.set ?? RECOMMENDED_TEMPLATES.set),
      reset: parseTemplate(opts.templates?.reset ?? RECOMMENDED_TEMPLATES.reset),
      heartbeat: parseTemplate(opts.templates?.heartbeat ?? RECOMMENDED_TEMPLATES.heartbeat),
    };
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  async start(): Promise<void> {
    const s = this.o.serve;
    if (s && (s.httpPort !== undefined || s.httpsPort !== undefined)) {
      this.auth = new ServerAuth({ mode: s.auth ?? 'none', username: s.username ?? 'admin', password: s.password ?? '', algorithms: s.algorithms, now: () => this.clock.now() });
      const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.serveEventData(req, res);
      if (s.httpPort !== undefined) this.ports.http = await this.listen(http.createServer(handler), s.httpPort, s.host);
      if (s.httpsPort !== undefined) this.ports.https = await this.listen(https.createServer({ cert: SIM_CERT, key: SIM_KEY }, handler), s.httpsPort, s.host);
    }
    if (this.o.controlPort !== undefined) {
      this.ports.control = await this.listen(
        http.createServer((req, res) => void this.control(req, res)),
        this.o.controlPort,
        this.o.controlHost ?? '127.0.0.1',
      );
    }
    if (this.o.heartbeatMs && this.o.heartbeatMs > 0) {
      this.timers.push(
        this.clock.setInterval(() => {
          this.state.drift();
          void this.push('heartbeat');
        }, this.o.heartbeatMs),
      );
    }
    if (this.o.cycleMs && this.o.cycleMs > 0) {
      const names = this.o.cycleEvents && this.o.cycleEvents.length > 0 ? this.o.cycleEvents : ['Vape', 'Aggression', 'CO2cal', 'Help'];
      const half = Math.max(1, Math.floor(this.o.cycleMs / 2));
      this.timers.push(
        this.clock.setInterval(() => {
          const id = names[this.cycleIndex++ % names.length];
          void this.trigger('set', id);
          this.later(() => void this.trigger('reset', id), half);
        }, this.o.cycleMs),
      );
    }
  }

  private later(fn: () => void, ms: number): void {
    const h = this.clock.setTimeout(() => {
      this.oneShots.delete(h);
      fn();
    }, ms);
    this.oneShots.add(h);
  }

  private listen(server: http.Server | https.Server, port: number, host = '127.0.0.1'): Promise<number> {
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  /** Set or reset an event and push the message. */
  async trigger(kind: 'set' | 'reset', id: string, opts: { value?: number; simulated?: boolean } = {}): Promise<PushResult[] | undefined> {
    const e = kind === 'set' ? this.state.set(id, opts.value) : this.state.reset(id);
    if (!e) return undefined;
    return this.push(kind, e, opts.simulated);
  }

  /** The text a message of `kind` would carry now. */
  render(kind: PushKind, event?: SimEvent, simulated = false): string {
    return expandTemplate(this.templates[kind], this.state.tokenValues(event, { simulated }));
  }

  /** Send one message of `kind` to every target. */
  async push(kind: PushKind, event?: SimEvent, simulated = false): Promise<PushResult[]> {
    const text = this.render(kind, event, simulated);
    const targets = this.o.targets ?? [];
    const results = await Promise.all(targets.map((t) => this.sendTo(t, text)));
    for (const r of results) {
      this.log(`${kind}${event ? ` ${event.id}` : ''} → ${r.target}: ${r.ok ? 'ok' : `failed (${r.error})`}`);
    }
    return results;
  }

  private sendTo(t: PushTarget, text: string): Promise<PushResult> {
    const label = `${t.protocol}://${t.host}:${t.port}`;
    if (this.closed) return Promise.resolve({ target: label, ok: false, error: 'closed' });
    if (t.protocol === 'udp') return this.sendUdp(t, text, label);
    if (t.protocol === 'tcp') return this.sendTcp(t, text, label);
    return this.sendHttp(t, text, label);
  }

  private sendUdp(t: PushTarget, text: string, label: string): Promise<PushResult> {
    if (!this.udp) {
      this.udp = dgram.createSocket(net.isIPv6(t.host) ? 'udp6' : 'udp4');
      this.udp.on('error', () => undefined);
      this.udp.unref();
    }
    const u = this.udp;
    return new Promise((resolve) => {
      u.send(Buffer.from(text, 'utf8'), t.port, t.host, (err) => resolve(err ? { target: label, ok: false, error: err.message } : { target: label, ok: true }));
    });
  }

  private sendTcp(t: PushTarget, text: string, label: string): Promise<PushResult> {
    return new Promise((resolve) => {
      const data = Buffer.from(text, 'utf8');
      if (this.o.tcpKeepOpen) {
        const existing = this.tcpConns.get(label);
        if (existing && !existing.destroyed && existing.writable) {
          existing.write(data, (err) => resolve(err ? { target: label, ok: false, error: err.message } : { target: label, ok: true }));
          return;
        }
      }
      const sock = net.connect({ host: t.host, port: t.port });
      let done = false;
      const finish = (r: PushResult): void => {
        if (!done) {
          done = true;
          resolve(r);
        }
      };
      sock.setTimeout(5000, () => {
        finish({ target: label, ok: false, error: 'timeout' });
        sock.destroy();
      });
      sock.on('error', (err) => {
        this.tcpConns.delete(label);
        finish({ target: label, ok: false, error: err.message });
      });
      sock.on('close', () => {
        if (this.tcpConns.get(label) === sock) this.tcpConns.delete(label);
      });
      sock.on('data', () => undefined); // a HALO reads nothing back
      sock.on('connect', () => {
        if (this.o.tcpKeepOpen) {
          sock.setTimeout(0);
          this.tcpConns.set(label, sock);
          sock.write(data, (err) => finish(err ? { target: label, ok: false, error: err.message } : { target: label, ok: true }));
        } else {
          sock.end(data, () => finish({ target: label, ok: true }));
        }
      });
    });
  }

  private sendHttp(t: PushTarget, text: string, label: string): Promise<PushResult> {
    const hs = parseHttpString(text);
    const method = hs ? hs.method : 'POST';
    const urlText = hs ? hs.url : (t.url ?? `${t.protocol}://${t.host}:${t.port}/`);
    const body = hs ? hs.body : text;
    let url: URL;
    try {
      url = new URL(urlText);
    } catch {
      return Promise.resolve({ target: label, ok: false, error: `bad URL ${urlText}` });
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of hs?.headers ?? []) headers[k] = v;
    if (body !== undefined) {
      headers['Content-Type'] = hs ? 'application/json' : 'text/plain; charset=utf-8';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    if (this.o.pushAuth) headers.Authorization = `Basic ${Buffer.from(`${this.o.pushAuth.username}:${this.o.pushAuth.password}`).toString('base64')}`;
    else if (url.username !== '') headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    const isHttps = url.protocol === 'https:';
    const lib = isHttps ? https : http;
    return new Promise((resolve) => {
      const req = lib.request(
        { method, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (isHttps ? 443 : 80), path: url.pathname + url.search, headers, agent: isHttps ? this.agentHttps : this.agentHttp, timeout: 5000 },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ target: label, ok: (res.statusCode ?? 0) < 300, status: res.statusCode }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => resolve({ target: label, ok: false, error: err.message }));
      req.end(body);
    });
  }

  // ---- Event Data URL server -----------------------------------------------------------

  private serveEventData(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests++;
    req.resume();
    if (this.auth && !this.auth.admit(req, res)) return;
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '');
    let body: unknown;
    if (path === '/api/config/gstate/event_state') body = this.state.eventStateJson();
    else if (path === '/api/config/gstate/config/eventgen/events') body = this.state.eventDefsJson();
    else if (path === '/api/config/gstate/latest') body = { sensors: this.state.sensors };
    else if (path === '/api/device/netinfo') body = { ip: this.state.device.ip, mac: this.state.device.mac, name: this.state.device.name };
    if (body === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('Not found\n');
      return;
    }
    this.served++;
    const text = JSON.stringify(body);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(text);
  }

  // ---- control port --------------------------------------------------------------------

  private async control(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://sim');
    const reply = (status: number, body: unknown): void => {
      const text = JSON.stringify(body) + '\n';
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(text);
    };
    const cmd = url.pathname.replace(/^\/+|\/+$/g, '');
    const event = url.searchParams.get('event') ?? '';
    const valueText = url.searchParams.get('value');
    const value = valueText !== null && valueText !== '' && Number.isFinite(Number(valueText)) ? Number(valueText) : undefined;
    try {
      const r = await this.command(cmd, event, value);
      if (r === undefined) return reply(404, { error: `unknown command or event: ${cmd} ${event}`.trim() });
      reply(200, r);
    } catch (e) {
      reply(500, { error: (e as Error).message });
    }
  }

  /** One command (`set`, `reset`, `test`, `heartbeat`, `state`) — control port and stdin. */
  async command(cmd: string, event = '', value?: number): Promise<unknown> {
    switch (cmd.toLowerCase()) {
      case 'set':
      case 'reset':
      case 'test': {
        const kind = cmd.toLowerCase() === 'reset' ? 'reset' : 'set';
        const results = await this.trigger(kind, event, { value, simulated: cmd.toLowerCase() === 'test' });
        return results === undefined ? undefined : { ok: true, command: cmd, event: this.state.find(event)?.id, sent: results };
      }
      case 'heartbeat':
        return { ok: true, command: cmd, sent: await this.push('heartbeat') };
      case 'state':
      case '':
        return this.state.state();
      default:
        return undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) this.clock.clearInterval(t);
    for (const t of this.oneShots) this.clock.clearTimeout(t);
    this.oneShots.clear();
    for (const s of this.tcpConns.values()) s.destroy();
    this.tcpConns.clear();
    if (this.udp) {
      try {
        this.udp.close();
      } catch {
        /* already closed */
      }
      this.udp = undefined;
    }
    this.agentHttp.destroy();
    this.agentHttps.destroy();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections?.();
          }),
      ),
    );
  }
}
