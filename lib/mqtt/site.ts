/**
 * The site side of the MQTT scheme (docs/mqtt.md §2): what Vigil's nodes emit (halo-in /
 * halo-poll events and health, vigil-alarm status) becomes ready-to-publish messages for
 * Node-RED's core `mqtt out`, with the QoS and retain flag the scheme gives each topic, plus
 * Home Assistant discovery configs the first time a device, event, reading or alarm is seen; and
 * commands arriving back on `vigil/<site>/alarm/<system>/command` become alarm commands.
 * Everything is bounded: devices, entities per device, systems, and the size of what comes in.
 */
import { isPlainObject } from '../common/commands';
import { depthExceeds, readJson } from '../common/json';
import { alarmConfigs, haloEventConfig, haloSensorConfig, templateSafe, type DiscoveryMessage } from './discovery';
import { parseTopic, segment, topics } from './topics';

export interface Outgoing {
  topic: string;
  payload: unknown;
  qos: 0 | 1;
  retain: boolean;
}

export interface SiteOptions {
  site: string;
  /** The camera alarm's name in topics when a status message carries none (`msg.system`). */
  system: string;
  /** Publish Home Assistant discovery configs. */
  discovery: boolean;
  /** Discovery topic prefix (Home Assistant's default `homeassistant`). */
  discoveryPrefix: string;
  /** What the Home Assistant "Silence" button asks for, in seconds. */
  silenceS: number;
  /** HALO devices tracked at most (more are published but get no state or discovery). */
  maxDevices?: number;
  /** Entities (events + readings) per device that get discovery configs at most. */
  maxEntities?: number;
  /** Camera alarms tracked at most. */
  maxSystems?: number;
}

/** The commands a broker may send: the two harmless ones (never config_update or shutdown). */
export const MQTT_COMMANDS = ['silence', 'test'] as const;
export type MqttCommand = { command: (typeof MQTT_COMMANDS)[number]; data: Record<string, unknown> };

export interface IngestResult {
  out: Outgoing[];
  command?: MqttCommand;
  /** Why nothing (or less) was published. */
  problem?: string;
  /** What the input was recognised as. */
  kind?: 'halo-event' | 'halo-heartbeat' | 'halo-online' | 'alarm-status' | 'alarm-reply' | 'command';
}

interface DeviceState {
  device: string;
  online: boolean;
  active: string[];
  values: Record<string, number>;
  sensors: Record<string, number>;
  lastSeen: number;
}

const ALARM_STATES = new Set(['on', 'off', 'alarm', 'silenced']);
type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/** A name map's numeric entries (at most `max`), other values dropped. */
function numbers(v: unknown, max = 256): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isPlainObject(v)) return out;
  let n = 0;
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'number' && Number.isFinite(x) && n++ < max) out[k] = x;
  }
  return out;
}

export class SitePublisher {
  private readonly devices = new Map<string, DeviceState>();
  private readonly discovered = new Map<string, Set<string>>();
  private readonly systems = new Map<string, string>();
  /** The last retained message per topic (state, status, discovery), for {@link retained}. */
  private readonly lastRetained = new Map<string, Outgoing>();
  private readonly maxDevices: number;
  private readonly maxEntities: number;
  private readonly maxSystems: number;

  constructor(private readonly opts: SiteOptions) {
    this.maxDevices = opts.maxDevices ?? 1024;
    this.maxEntities = opts.maxEntities ?? 128;
    this.maxSystems = opts.maxSystems ?? 64;
  }

  /** The topic a `mqtt in` should subscribe to for commands of this site. */
  get commandFilter(): string {
    return topics.alarmCommand(this.opts.site, '+');
  }

  /** The retained birth message (the core mqtt-broker node can send the same as its birth). */
  birth(): Outgoing {
    return { topic: topics.online(this.opts.site), payload: 'true', qos: 1, retain: true };
  }

  /**
   * Every retained message this site stands for, to publish again: Node-RED's `mqtt out` drops
   * what arrives while the broker is away (at start-up, during a restart), and a retained topic
   * that is only published on change would then stay missing until the next change.
   */
  retained(): Outgoing[] {
    return [...this.lastRetained.values()];
  }

  ingest(msg: { topic?: unknown; payload?: unknown; system?: unknown }, now: number): IngestResult {
    const r = this.route(msg, now);
    for (const o of r.out) if (o.retain) this.lastRetained.set(o.topic, o);
    return r;
  }

  private route(msg: { topic?: unknown; payload?: unknown; system?: unknown }, now: number): IngestResult {
    const t = parseTopic(msg.topic);
    if (t?.kind === 'alarm-command') return this.command(t.site, msg.payload);
    const p = msg.payload;
    // vigil-alarm answers a command on its status output (`msg.topic` "reply"): nothing to
    // publish (the status change that follows is), but a refused command is worth a warning.
    if (msg.topic === 'reply') {
      const err = isPlainObject(p) ? p.error : undefined;
      return { out: [], kind: 'alarm-reply', problem: err === undefined ? undefined : `the alarm refused a command from MQTT: ${JSON.stringify(err).slice(0, 200)}` };
    }
    if (!isPlainObject(p)) return { out: [], problem: 'not a Vigil message: the payload is not an object' };
    if (depthExceeds(p, 16)) return { out: [], problem: 'payload nested too deeply to publish' };
    const device = str(p.device);
    if (device && (p.kind === 'set' || p.kind === 'reset') && str(p.event)) return this.event(device, String(p.event), p, now);
    if (device && p.kind === 'heartbeat') return this.heartbeat(device, p, now);
    if (device && typeof p.online === 'boolean' && p.kind === undefined) return this.online(device, p.online, now);
    if (typeof p.state === 'string' && ALARM_STATES.has(p.state) && typeof p.timeStamp === 'number') return this.status(str(msg.system) ?? this.opts.system, p);
    if (p.kind === 'unknown') return { out: [], problem: 'a HALO message of kind "unknown" is not published' };
    return { out: [], problem: 'not a Vigil message: neither a HALO event/heartbeat/online nor an alarm status' };
  }

  private state(device: string, now: number): DeviceState | undefined {
    let d = this.devices.get(device);
    if (!d) {
      if (this.devices.size >= this.maxDevices) return undefined;
      d = { device, online: true, active: [], values: {}, sensors: {}, lastSeen: now };
      this.devices.set(device, d);
    }
    d.lastSeen = now;
    return d;
  }

  private stateMessage(d: DeviceState): Outgoing {
    return { topic: topics.haloState(this.opts.site, d.device), payload: { ...d, active: [...d.active] }, qos: 1, retain: true };
  }

  /** Discovery configs for entities not announced yet (bounded per device). */
  private discover(device: string, make: Array<[string, () => DiscoveryMessage]>): Outgoing[] {
    if (!this.opts.discovery) return [];
    let seen = this.discovered.get(device);
    if (!seen) this.discovered.set(device, (seen = new Set()));
    const out: Outgoing[] = [];
    for (const [key, build] of make) {
      if (seen.has(key) || seen.size >= this.maxEntities) continue;
      seen.add(key);
      out.push(build());
    }
    return out;
  }

  private event(device: string, event: string, p: Obj, now: number): IngestResult {
    const out: Outgoing[] = [{ topic: topics.haloEvent(this.opts.site, device, event), payload: p, qos: 1, retain: false }];
    const d = this.state(device, now);
    if (!d) return { out, kind: 'halo-event', problem: `more than ${this.maxDevices} HALO devices: ${device} gets no state topic` };
    d.online = true;
    const active = p.kind === 'set';
    d.active = active ? (d.active.includes(event) ? d.active : [...d.active, event].slice(-this.maxEntities)) : d.active.filter((e) => e !== event);
    if (typeof p.value === 'number' && Number.isFinite(p.value)) d.values[event] = p.value;
    const prefix = this.opts.discoveryPrefix;
    const disc = templateSafe(event) ? this.discover(device, [[`event:${event}`, () => haloEventConfig(prefix, this.opts.site, device, event)]]) : [];
    return { out: [...disc, ...out, this.stateMessage(d)], kind: 'halo-event' };
  }

  private heartbeat(device: string, p: Obj, now: number): IngestResult {
    const d = this.state(device, now);
    if (!d) return { out: [], kind: 'halo-heartbeat', problem: `more than ${this.maxDevices} HALO devices: ${device} is not tracked` };
    d.online = true;
    if (Array.isArray(p.active)) d.active = p.active.filter((x): x is string => typeof x === 'string').slice(0, this.maxEntities);
    const events = numbers(p.events);
    Object.assign(d.values, events);
    Object.assign(d.sensors, numbers(p.sensors));
    const prefix = this.opts.discoveryPrefix;
    const site = this.opts.site;
    const make: Array<[string, () => DiscoveryMessage]> = [];
    for (const e of new Set([...Object.keys(events), ...d.active])) if (templateSafe(e)) make.push([`event:${e}`, () => haloEventConfig(prefix, site, device, e)]);
    for (const s of Object.keys(d.sensors)) if (templateSafe(s)) make.push([`sensor:${s}`, () => haloSensorConfig(prefix, site, device, s)]);
    return { out: [...this.discover(device, make), this.stateMessage(d)], kind: 'halo-heartbeat' };
  }

  private online(device: string, online: boolean, now: number): IngestResult {
    const d = this.state(device, now);
    if (!d) return { out: [], kind: 'halo-online', problem: `more than ${this.maxDevices} HALO devices: ${device} is not tracked` };
    d.online = online;
    return { out: [this.stateMessage(d)], kind: 'halo-online' };
  }

  private status(system: string, p: Obj): IngestResult {
    const key = JSON.stringify([p.state, p.initialAlarm, p.silencedTill]);
    const known = this.systems.get(system);
    if (known === key) return { out: [], kind: 'alarm-status' }; // unchanged: the retained one stands
    if (known === undefined && this.systems.size >= this.maxSystems) return { out: [], kind: 'alarm-status', problem: `more than ${this.maxSystems} camera alarms: ${system} is not published` };
    this.systems.set(system, key);
    const status = { timeStamp: p.timeStamp, state: p.state, initialAlarm: p.initialAlarm, silencedTill: p.silencedTill ?? null };
    const out: Outgoing[] = [];
    if (known === undefined && this.opts.discovery) out.push(...alarmConfigs(this.opts.discoveryPrefix, this.opts.site, system, this.opts.silenceS));
    out.push({ topic: topics.alarmStatus(this.opts.site, system), payload: status, qos: 1, retain: true });
    return { out, kind: 'alarm-status' };
  }

  private command(site: string, payload: unknown): IngestResult {
    if (site !== segment(this.opts.site)) return { out: [], problem: `a command for another site (${site}) is ignored` };
    let v: unknown = payload;
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
      const r = readJson(payload, { maxLength: 4096, maxDepth: 4, maxValues: 64 });
      if (!r.ok) return { out: [], problem: `command refused: ${r.reason}` };
      v = r.value;
    }
    if (!isPlainObject(v) || depthExceeds(v, 4)) return { out: [], problem: 'command refused: expected {"command": …, "data": {…}}' };
    const command = v.command;
    if (typeof command !== 'string' || !(MQTT_COMMANDS as readonly string[]).includes(command)) {
      return { out: [], problem: `command refused: only ${MQTT_COMMANDS.join(' and ')} may come through MQTT (got ${JSON.stringify(String(command).slice(0, 40))})` };
    }
    const data = isPlainObject(v.data) ? v.data : {};
    return { out: [], command: { command: command as MqttCommand['command'], data }, kind: 'command' };
  }
}
