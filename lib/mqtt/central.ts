/**
 * The central side of the MQTT scheme (docs/mqtt.md §4): everything the sites publish
 * (`vigil/+/#` through a core `mqtt in`) folded into one overview — which sites and HALO devices
 * are online, every camera alarm's last status, the most recent events — plus each event as
 * it arrives. Every payload is network input: read with the bounded JSON reader, every map
 * capped, anything unexpected reported rather than stored.
 */
import { isPlainObject } from '../common/commands';
import { depthExceeds, readJson } from '../common/json';
import { parseTopic } from './topics';

export interface SiteView {
  online: boolean;
  since: number;
}
export interface DeviceView {
  site: string;
  device: string;
  online: boolean;
  active: string[];
  sensors: Record<string, number>;
  lastSeen: number;
}
export interface AlarmView {
  site: string;
  system: string;
  state: string;
  initialAlarm: unknown;
  silencedTill: unknown;
  at: number;
}
export interface EventView {
  site: string;
  device: string;
  event: string;
  active: boolean;
  value?: number;
  at: number;
}
export interface Overview {
  sites: Record<string, SiteView>;
  devices: Record<string, DeviceView>;
  alarms: Record<string, AlarmView>;
  events: EventView[];
  offline: { sites: string[]; devices: string[] };
}

export interface CentralOptions {
  maxSites?: number;
  maxDevices?: number;
  maxAlarms?: number;
  /** Most recent events kept in the overview. */
  recentEvents?: number;
}

export interface CentralResult {
  changed: boolean;
  event?: EventView & { payload: Record<string, unknown> };
  problem?: string;
}

type Obj = Record<string, unknown>;

/** An MQTT payload as a value: core `mqtt in` gives a Buffer, a string or (auto-detect) a parsed value. */
export function payloadValue(payload: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
    const text = payload.toString().trim();
    if (text === 'true' || text === 'false') return { ok: true, value: text === 'true' };
    return readJson(text, { maxLength: 256 * 1024, maxDepth: 16, maxValues: 4096 });
  }
  if (isPlainObject(payload) || Array.isArray(payload)) return depthExceeds(payload, 16) ? { ok: false, reason: 'payload nested too deeply' } : { ok: true, value: payload };
  return { ok: true, value: payload };
}

export class Central {
  private readonly sites = new Map<string, SiteView>();
  private readonly devices = new Map<string, DeviceView>();
  private readonly alarms = new Map<string, AlarmView>();
  private readonly events: EventView[] = [];
  private readonly max: Required<CentralOptions>;

  constructor(opts: CentralOptions = {}) {
    this.max = { maxSites: opts.maxSites ?? 256, maxDevices: opts.maxDevices ?? 4096, maxAlarms: opts.maxAlarms ?? 1024, recentEvents: opts.recentEvents ?? 50 };
  }

  ingest(topic: unknown, payload: unknown, now: number): CentralResult {
    const t = parseTopic(topic);
    if (!t) return { changed: false, problem: `not a Vigil topic: ${String(topic).slice(0, 80)}` };
    if (t.kind === 'alarm-command') return { changed: false };
    const pv = payloadValue(payload);
    if (!pv.ok) return { changed: false, problem: `${t.kind} on ${String(topic)}: ${pv.reason}` };
    const v = pv.value;
    if (t.kind === 'online') {
      if (typeof v !== 'boolean') return { changed: false, problem: `site ${t.site}: online payload is not true/false` };
      return this.site(t.site, v, now);
    }
    if (!isPlainObject(v)) return { changed: false, problem: `${t.kind} on ${String(topic)}: payload is not an object` };
    const seen = this.touchSite(t.site, now);
    if (t.kind === 'halo-state') return this.deviceState(t.site, t.device, v, now, seen);
    if (t.kind === 'alarm-status') {
      const key = `${t.site}/${t.system}`;
      if (!this.alarms.has(key) && this.alarms.size >= this.max.maxAlarms) return { changed: seen, problem: `more than ${this.max.maxAlarms} alarms: ${key} not kept` };
      this.alarms.set(key, { site: t.site, system: t.system, state: String(v.state), initialAlarm: v.initialAlarm, silencedTill: v.silencedTill ?? null, at: now });
      return { changed: true };
    }
    // halo-event
    const ev: EventView = { site: t.site, device: t.device, event: t.event, active: v.kind === 'set' || v.active === true, at: now };
    if (typeof v.value === 'number') ev.value = v.value;
    this.events.push(ev);
    if (this.events.length > this.max.recentEvents) this.events.splice(0, this.events.length - this.max.recentEvents);
    return { changed: true, event: { ...ev, payload: v } };
  }

  /** A site heard from: it is online unless its last will said otherwise later. */
  private touchSite(site: string, now: number): boolean {
    if (this.sites.has(site) || this.sites.size >= this.max.maxSites) return false;
    this.sites.set(site, { online: true, since: now });
    return true;
  }

  private site(site: string, online: boolean, now: number): CentralResult {
    const s = this.sites.get(site);
    if (s && s.online === online) return { changed: false };
    if (!s && this.sites.size >= this.max.maxSites) return { changed: false, problem: `more than ${this.max.maxSites} sites: ${site} not kept` };
    this.sites.set(site, { online, since: now });
    return { changed: true };
  }

  private deviceState(site: string, device: string, v: Obj, now: number, seen: boolean): CentralResult {
    const key = `${site}/${device}`;
    if (!this.devices.has(key) && this.devices.size >= this.max.maxDevices) return { changed: seen, problem: `more than ${this.max.maxDevices} devices: ${key} not kept` };
    const active = Array.isArray(v.active) ? v.active.filter((x): x is string => typeof x === 'string').slice(0, 256) : [];
    const sensors: Record<string, number> = {};
    if (isPlainObject(v.sensors)) for (const [k, x] of Object.entries(v.sensors).slice(0, 256)) if (typeof x === 'number') sensors[k] = x;
    this.devices.set(key, { site, device, online: v.online !== false, active, sensors, lastSeen: typeof v.lastSeen === 'number' ? v.lastSeen : now });
    return { changed: true };
  }

  snapshot(): Overview {
    const sites = Object.fromEntries(this.sites);
    const devices = Object.fromEntries(this.devices);
    return {
      sites,
      devices,
      alarms: Object.fromEntries(this.alarms),
      events: [...this.events],
      offline: {
        sites: [...this.sites].filter(([, s]) => !s.online).map(([k]) => k),
        // A device is offline when it says so, or when its whole site is.
        devices: [...this.devices].filter(([, d]) => !d.online || this.sites.get(d.site)?.online === false).map(([k]) => k),
      },
    };
  }
}
