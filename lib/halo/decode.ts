/**
 * Classify one received HALO message as set / reset / heartbeat / unknown and pull its
 * data out, using the user's templates (compiled by the one template engine) and, for
 * JSON that matches no template, well-known keys (`device`/`name`, `event`/`eid`,
 * `alarm`/`state`/`type`/`status`, …).
 */
import {
  parseActive,
  parseAllSensors,
  parseAllSensorsAt,
  parseAllSensorsNL,
  parseEvents,
  parseEventVals,
  toNumber,
  type HaloValue,
} from './aggregates';
import { readJson } from '../common/json';
import { parseHttpString, urlPathPart } from './httpstring';
import { compileTemplate, TemplateError, type CompiledTemplate, type MatchedTokens } from './template';

export type HaloFormat = 'auto' | 'json' | 'template';

export interface HaloEventData {
  kind: 'set' | 'reset';
  device: string;
  event: string;
  active: boolean;
  value?: HaloValue;
  threshold?: HaloValue;
  source?: string;
  mac?: string;
  ip?: string;
  simulated?: boolean;
  deviceTime?: string;
  tokens: MatchedTokens;
}

export interface HaloHeartbeatData {
  kind: 'heartbeat';
  device: string;
  online: true;
  active: string[];
  events: Record<string, HaloValue>;
  sensors: Record<string, HaloValue>;
  mac?: string;
  ip?: string;
  deviceTime?: string;
  tokens: MatchedTokens;
}

export interface HaloUnknownData {
  kind: 'unknown';
  device: string;
  /** Why it is unknown (for the warning). */
  reason: string;
  /** The parsed JSON when the text was JSON. */
  json?: unknown;
  tokens: MatchedTokens;
}

export type HaloDecoded = HaloEventData | HaloHeartbeatData | HaloUnknownData;

/** The recommended strings to type on the HALO (one line each; `\n` ends the message). */
export const RECOMMENDED_TEMPLATES = {
  set: '{"type":"set","name":"%NAME%","mac":"%MAC%","ip":"%IP%","event":"%EID%","value":"%VAL%","threshold":"%THR%","source":"%SOURCE%","date":"%DATE%","time":"%TIME%","sim":"%SIM%"}\\n',
  reset: '{"type":"reset","name":"%NAME%","mac":"%MAC%","ip":"%IP%","event":"%EID%","value":"%VAL%","threshold":"%THR%","source":"%SOURCE%","date":"%DATE%","time":"%TIME%","sim":"%SIM%"}\\n',
  heartbeat: '{"type":"heartbeat","name":"%NAME%","mac":"%MAC%","ip":"%IP%","active":"%ACTIVE%","events":"%EVENTVALS%","sensors":"%ALLSENSORS%","date":"%DATE%","time":"%TIME%"}\\n',
} as const;

export interface DecoderOptions {
  format?: HaloFormat;
  setTemplate?: string;
  resetTemplate?: string;
  heartbeatTemplate?: string;
  /** Terminators the framing may leave or strip (e.g. the `delimiter`). */
  terminators?: string[];
  /**
   * HTTP transport: templates may be whole HALO HTTP strings; their `[JSONBODY]` part is
   * matched against the request body, or else their path and query against the URL.
   */
  http?: boolean;
}

type Kind = 'set' | 'reset' | 'heartbeat';

interface Candidate {
  kind: Kind;
  compiled: CompiledTemplate;
  /** http: match the request body (true) or the path+query (false). */
  body: boolean;
}

/** A message to decode; for HTTP both the body and the path+query are offered. */
export interface HaloMessageText {
  text: string;
  /** http only: the request's path and query (decoded). */
  path?: string;
}

export class HaloDecoder {
  readonly format: HaloFormat;
  private readonly candidates: Candidate[] = [];

  constructor(opts: DecoderOptions = {}) {
    this.format = opts.format ?? 'auto';
    const add = (kind: Kind, template: string | undefined): void => {
      if (template === undefined || template.trim() === '') return;
      let source = template;
      let body = true;
      if (opts.http) {
        const hs = parseHttpString(template);
        if (hs) {
          if (hs.body !== undefined && hs.body.trim() !== '') source = hs.body;
          else {
            source = urlPathPart(hs.url);
            body = false;
          }
        }
      }
      let compiled: CompiledTemplate;
      try {
        compiled = compileTemplate(source, { terminators: opts.terminators });
      } catch (e) {
        throw e instanceof TemplateError ? new TemplateError(`${kind} string: ${e.message}`) : e;
      }
      this.candidates.push({ kind, compiled, body });
    };
    if (this.format !== 'json') {
      add('set', opts.setTemplate);
      add('reset', opts.resetTemplate);
      add('heartbeat', opts.heartbeatTemplate);
    }
  }

  /** Decode one message. `fallbackDevice` names the sender when the message does not. */
  decode(input: string | HaloMessageText, fallbackDevice: string): HaloDecoded {
    const msg = typeof input === 'string' ? { text: input } : input;
    if (this.format !== 'json') {
      let best: { c: Candidate; tokens: MatchedTokens } | undefined;
      for (const c of this.candidates) {
        const subject = c.body ? msg.text : msg.path;
        if (subject === undefined) continue;
        if (best && best.c.compiled.literalLength >= c.compiled.literalLength) continue;
        const tokens = c.compiled.match(subject);
        if (tokens) best = { c, tokens };
      }
      if (best) return fromTokens(best.c.kind, best.tokens, fallbackDevice);
      if (this.format === 'template') return unknown(fallbackDevice, 'matches no template');
    }
    const t = msg.text.trim();
    const c0 = t.charCodeAt(0);
    if (c0 === 0x7b /* { */ || c0 === 0x5b /* [ */) {
      // The one bounded reader: a deep or huge body is refused before anything walks it.
      const r = readJson(t, { ...HALO_JSON_LIMITS, maxLength: Math.max(t.length, 1) });
      if (!r.ok) return unknown(fallbackDevice, /nested|too many|too long/.test(r.reason) ? r.reason : `invalid JSON (${r.reason})`);
      return fromJson(r.value, fallbackDevice);
    }
    return unknown(fallbackDevice, this.format === 'json' ? 'not JSON' : 'matches no template and is not JSON');
  }
}

function unknown(device: string, reason: string, json?: unknown): HaloUnknownData {
  const u: HaloUnknownData = { kind: 'unknown', device, reason, tokens: {} };
  if (json !== undefined) u.json = json;
  return u;
}

function deviceTime(date: string | undefined, time: string | undefined): string | undefined {
  const parts = [date, time].map((s) => (s ?? '').trim()).filter((s) => s !== '');
  return parts.length > 0 ? parts.join(' ') : undefined;
}

function nonEmpty(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  return t === '' ? undefined : t;
}

function valueOf(s: string | undefined): HaloValue | undefined {
  const t = nonEmpty(s);
  if (t === undefined) return undefined;
  const n = toNumber(t);
  return n === undefined ? t : n;
}

/** Build the normalised data from matched tokens. */
export function fromTokens(kind: Kind, tokens: MatchedTokens, fallbackDevice: string): HaloEventData | HaloHeartbeatData {
  const device = nonEmpty(tokens.NAME) ?? nonEmpty(tokens.MAC) ?? nonEmpty(tokens.IP) ?? fallbackDevice;
  const mac = nonEmpty(tokens.MAC);
  const ip = nonEmpty(tokens.IP);
  const dt = deviceTime(tokens.DATE, tokens.TIME);
  if (kind === 'heartbeat') {
    const hb: HaloHeartbeatData = { kind, device, online: true, active: [], events: {}, sensors: {}, tokens };
    if (tokens.EVENTS !== undefined) {
      const p = parseEvents(tokens.EVENTS);
      hb.events = p.events;
      hb.active = p.active;
    }
    if (tokens.EVENTVALS !== undefined) hb.events = { ...hb.events, ...parseEventVals(tokens.EVENTVALS) };
    if (tokens.ACTIVE !== undefined) hb.active = parseActive(tokens.ACTIVE);
    if (tokens.ALLSENSORS !== undefined) Object.assign(hb.sensors, parseAllSensors(tokens.ALLSENSORS));
    if (tokens['ALLSENSORS@'] !== undefined) Object.assign(hb.sensors, parseAllSensorsAt(tokens['ALLSENSORS@']));
    if (tokens.ALLSENSORSNL !== undefined) Object.assign(hb.sensors, parseAllSensorsNL(tokens.ALLSENSORSNL));
    for (const [name, v] of Object.entries(tokens)) {
      if (name.startsWith('SENSOR:')) {
        const val = valueOf(v);
        if (val !== undefined) hb.sensors[name.slice(7)] = val;
      }
    }
    if (mac) hb.mac = mac;
    if (ip) hb.ip = ip;
    if (dt) hb.deviceTime = dt;
    return hb;
  }
  const ev: HaloEventData = { kind, device, event: nonEmpty(tokens.EID) ?? 'event', active: kind === 'set', tokens };
  const value = valueOf(tokens.VAL);
  if (value !== undefined) ev.value = value;
  const thr = valueOf(tokens.THR);
  if (thr !== undefined) ev.threshold = thr;
  const source = nonEmpty(tokens.SOURCE);
  if (source) ev.source = source;
  if (mac) ev.mac = mac;
  if (ip) ev.ip = ip;
  if (tokens.SIM !== undefined) ev.simulated = tokens.SIM.trim().toUpperCase() === 'SIMULATED';
  if (dt) ev.deviceTime = dt;
  return ev;
}

// ---- JSON by well-known keys -----------------------------------------------------------

const SET_WORDS = new Set(['yes', 'true', '1', 'on', 'set', 'active', 'alarm', 'start', 'started', 'triggered', 'event', 'fired', 'raised', 'alarmed']);
const RESET_WORDS = new Set(['no', 'false', '0', 'off', 'reset', 'clear', 'cleared', 'inactive', 'stop', 'stopped', 'normal', 'end', 'restored', 'resolved']);

/** Limits of the well-known-key walk: how deep it looks, and how many keys it reads at most. */
export const JSON_WALK_LIMITS = { maxDepth: 4, maxKeys: 256 } as const;

/**
 * Limits for JSON read from the network before it is walked or sent on (`payload.json` of an
 * unknown message): nesting a message clone or `String()` handles easily, and a bounded size.
 */
export const HALO_JSON_LIMITS = { maxDepth: 32, maxValues: 10_000 } as const;

/** The scalar a key holds, as text; objects and arrays (whatever their depth) are never stringified. */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return nonEmpty(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function kindWord(v: unknown): 'set' | 'reset' | 'heartbeat' | undefined {
  const w = str(v)?.toLowerCase();
  if (w === undefined) return undefined;
  if (w === 'heartbeat' || w === 'alive') return 'heartbeat';
  if (SET_WORDS.has(w)) return 'set';
  if (RESET_WORDS.has(w)) return 'reset';
  return undefined;
}

/**
 * Where a key sits: `root` (the top object), inside an object that names the `device`
 * (`"device":{…}`, `"sensor":{…}`), one that holds the `event` (`"event":{…}`, `"alert":{…}`),
 * or anywhere `other`. Generic keys (`name`, `id`, `type`) mean different things in each.
 */
type Ctx = 'root' | 'device' | 'event' | 'other';

const DEVICE_OBJECTS = new Set(['device', 'sensor', 'halo', 'deviceinfo', 'sensorinfo']);
const EVENT_OBJECTS = new Set(['event', 'alert', 'alarm', 'eventinfo', 'eventdata']);
/** Envelopes whose content reads like the top level (`{"data":{"name":…,"event":…}}`). */
const ENVELOPES = new Set(['data', 'payload', 'body', 'message', 'msg', 'content', 'params', 'detail', 'details', 'result', 'notification']);

type Field = 'device' | 'mac' | 'ip' | 'event' | 'type' | 'state' | 'value' | 'threshold' | 'source' | 'date' | 'time' | 'sim' | 'active';

/** Normalised key (lower case, no `_`/`-`/space) → field, per context; earlier keys win at the same depth. */
const KEYS: Array<{ field: Field; keys: string[]; ctx: readonly Ctx[] }> = [
  { field: 'device', keys: ['device', 'devicename', 'sensorname', 'haloname', 'hostname', 'name', 'deviceid', 'halo', 'sensor'], ctx: ['root'] },
  // In an object of no known role (`"location":{"name":…}`) only the unambiguous keys count.
  { field: 'device', keys: ['device', 'devicename', 'sensorname', 'haloname', 'hostname', 'deviceid', 'halo'], ctx: ['other'] },
  { field: 'device', keys: ['devicename', 'sensorname', 'haloname', 'hostname'], ctx: ['event'] },
  { field: 'device', keys: ['name', 'devicename', 'sensorname', 'label', 'id', 'deviceid', 'hostname'], ctx: ['device'] },
  { field: 'mac', keys: ['mac', 'macaddress', 'macaddr'], ctx: ['root', 'other', 'device'] },
  { field: 'ip', keys: ['ip', 'ipaddress', 'ipaddr'], ctx: ['root', 'other', 'device'] },
  { field: 'event', keys: ['event', 'eid', 'eventtype', 'eventid', 'eventname'], ctx: ['root', 'other'] },
  { field: 'event', keys: ['eid', 'eventtype', 'eventid', 'eventname', 'type', 'name', 'id'], ctx: ['event'] },
  { field: 'type', keys: ['type', 'kind'], ctx: ['root', 'other'] },
  { field: 'state', keys: ['alarm', 'state', 'status', 'set', 'eventstate', 'eventstatus'], ctx: ['root', 'other', 'event'] },
  { field: 'active', keys: ['active'], ctx: ['root', 'other', 'event'] },
  { field: 'value', keys: ['value', 'val', 'eventvalue'], ctx: ['root', 'other', 'event'] },
  { field: 'threshold', keys: ['threshold', 'thr'], ctx: ['root', 'other', 'event'] },
  { field: 'source', keys: ['source'], ctx: ['root', 'other', 'event'] },
  { field: 'date', keys: ['date', 'localeventdate', 'eventdate'], ctx: ['root', 'other', 'event'] },
  { field: 'time', keys: ['time', 'localeventtime', 'eventtime'], ctx: ['root', 'other', 'event'] },
  { field: 'sim', keys: ['sim', 'simulated'], ctx: ['root', 'other', 'event'] },
];

/** Per context: normalised key → [field, priority] (lower priority wins at the same depth). */
const KEY_TABLE: Record<Ctx, Map<string, Array<[Field, number]>>> = { root: new Map(), device: new Map(), event: new Map(), other: new Map() };
for (const { field, keys, ctx } of KEYS) {
  keys.forEach((k, prio) => {
    for (const c of ctx) {
      const list = KEY_TABLE[c].get(k) ?? [];
      list.push([field, prio]);
      KEY_TABLE[c].set(k, list);
    }
  });
}

function normKey(k: string): string {
  return k.toLowerCase().replace(/[_\- ]/g, '');
}

interface Found {
  value: unknown;
  /** The key as written (for a reason text). */
  key: string;
  depth: number;
  prio: number;
}

interface Walked {
  /** The shallowest scalar per field (objects and arrays are walked into, never taken). */
  found: Partial<Record<Field, Found>>;
  /** Every state-word candidate, shallowest first (an unknown word in one must not hide a known one in another). */
  states: Found[];
  keys: number;
  /** The walk stopped early at the key limit. */
  truncated: boolean;
}

/**
 * Breadth-first walk over the objects of a parsed message (arrays are not entered: HALO
 * pushes carry one event), at most {@link JSON_WALK_LIMITS} deep and wide, so it costs
 * at most a few hundred steps whatever arrives. Breadth-first means the shallowest
 * candidate for a field is found first.
 */
function walk(root: Record<string, unknown>): Walked {
  const found: Partial<Record<Field, Found>> = {};
  const states: Found[] = [];
  let keys = 0;
  let truncated = false;
  let level: Array<{ obj: Record<string, unknown>; ctx: Ctx }> = [{ obj: root, ctx: 'root' }];
  for (let depth = 1; depth <= JSON_WALK_LIMITS.maxDepth && level.length > 0 && !truncated; depth++) {
    const next: typeof level = [];
    for (const { obj, ctx } of level) {
      for (const key in obj) {
        if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
        if (++keys > JSON_WALK_LIMITS.maxKeys) {
          truncated = true;
          break;
        }
        const v = obj[key];
        const nk = normKey(key);
        if (v !== null && typeof v === 'object') {
          if (!Array.isArray(v)) {
            const child: Ctx = DEVICE_OBJECTS.has(nk) ? 'device' : EVENT_OBJECTS.has(nk) ? 'event' : ctx === 'root' ? (ENVELOPES.has(nk) ? 'root' : 'other') : ctx;
            next.push({ obj: v as Record<string, unknown>, ctx: child });
          }
          if (nk !== 'active' || ctx !== 'root') continue; // a heartbeat's "active" list is read at the root
        }
        for (const [field, prio] of KEY_TABLE[ctx].get(nk) ?? []) {
          if (v === undefined || v === null || v === '') continue;
          const f: Found = { value: v, key, depth, prio };
          if (field === 'state') states.push(f);
          const cur = found[field];
          if (!cur || cur.depth > depth || (cur.depth === depth && cur.prio > prio)) found[field] = f;
        }
      }
      if (truncated) break;
    }
    level = next;
  }
  states.sort((a, b) => a.depth - b.depth || a.prio - b.prio);
  return { found, states, keys, truncated };
}

/** A word for a reason text: scalars quoted and cut at 40 characters, containers named, never stringified. */
function shortWord(v: unknown): string {
  const s = str(v) ?? (Array.isArray(v) ? '[…]' : typeof v === 'object' ? '{…}' : '');
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function numbersOf(v: unknown, parse: (s: string) => Record<string, HaloValue>): Record<string, HaloValue> {
  if (typeof v === 'string') return parse(v);
  const out: Record<string, HaloValue> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (typeof x === 'number') out[k] = x;
      else if (typeof x === 'string') out[k] = valueOf(x) ?? x;
    }
  }
  return out;
}

function numberOrText(v: unknown): HaloValue | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  return typeof v === 'string' ? valueOf(v) : undefined;
}

/**
 * Map a parsed JSON object by well-known keys at any depth of a bounded walk (see
 * {@link JSON_WALK_LIMITS}): case-insensitive, `_`/`-` ignored, so `sensorName`,
 * `mac_address`, `eventType`, `localEventDate` all count; inside `"device":{…}` a `name` or
 * `id` names the device, inside `"event":{…}` a `type`, `name` or `id` names the event; the
 * shallowest candidate wins. `unknown` (with the reason) when it names neither a device nor
 * an event. Only call it with JSON read through the bounded reader.
 */
export function fromJson(json: unknown, fallbackDevice: string): HaloDecoded {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return unknown(fallbackDevice, 'JSON is not an object', json);
  const top = json as Record<string, unknown>;
  const { found, states, keys, truncated } = walk(top);
  const get = (f: Field): unknown => found[f]?.value;
  const deviceName = str(get('device'));
  const mac = str(get('mac'));
  const ip = str(get('ip'));
  const device = deviceName ?? mac ?? ip ?? fallbackDevice;
  const event = str(get('event'));
  const dt = deviceTime(str(get('date')), str(get('time')));
  const tokens: MatchedTokens = {};
  const rootLower = new Map<string, unknown>();
  for (const [k, v] of Object.entries(top)) rootLower.set(normKey(k), v);

  let kind = kindWord(get('type'));
  for (const s of states) {
    if (kind !== undefined) break;
    kind = kindWord(s.value);
  }
  const active = found.active?.value;
  if (kind === undefined && typeof active === 'boolean') kind = active ? 'set' : 'reset';
  if (kind === undefined && (rootLower.has('alive') || rootLower.has('heartbeat'))) kind = 'heartbeat';
  if (kind === undefined && event !== undefined) {
    // A state key whose word we do not know ("alarm":"ended"): guessing "set" could raise a
    // false alarm (or hide a reset), so it is unknown — with the word in the reason.
    const word = states[0] ?? (found.type && found.type.depth === 1 ? found.type : undefined);
    if (word) return unknown(device, `unrecognised state "${shortWord(word.value)}" in "${word.key.toLowerCase()}"`, json);
    kind = 'set';
  }
  if (kind === undefined && deviceName !== undefined && (rootLower.has('events') || rootLower.has('sensors') || rootLower.has('active'))) kind = 'heartbeat';
  if (kind === undefined || (kind !== 'heartbeat' && event === undefined && deviceName === undefined)) {
    const looked = `looked at ${keys} key(s) to depth ${JSON_WALK_LIMITS.maxDepth}${truncated ? `, stopped at the limit of ${JSON_WALK_LIMITS.maxKeys}` : ''}`;
    return unknown(device, `JSON names no HALO event or heartbeat (${looked})`, json);
  }

  if (kind === 'heartbeat') {
    const hb: HaloHeartbeatData = { kind, device, online: true, active: [], events: {}, sensors: {}, tokens };
    const evs = rootLower.get('events');
    if (typeof evs === 'string') {
      const p = parseEvents(evs);
      hb.events = p.events;
      hb.active = p.active;
    } else hb.events = numbersOf(evs, parseEventVals);
    const act = rootLower.get('active');
    if (typeof act === 'string') hb.active = parseActive(act);
    else if (Array.isArray(act)) hb.active = act.map((a) => str(a)).filter((a): a is string => a !== undefined);
    hb.sensors = numbersOf(rootLower.get('sensors'), (s) => (s.includes('@') ? parseAllSensorsAt(s) : s.includes('\n') ? parseAllSensorsNL(s) : parseAllSensors(s)));
    if (mac) hb.mac = mac;
    if (ip) hb.ip = ip;
    const alive = str(rootLower.get('alive'));
    if (dt ?? alive) hb.deviceTime = dt ?? alive;
    return hb;
  }
  const ev: HaloEventData = { kind, device, event: event ?? 'event', active: kind === 'set', tokens };
  const value = numberOrText(get('value'));
  if (value !== undefined) ev.value = value;
  const thr = numberOrText(get('threshold'));
  if (thr !== undefined) ev.threshold = thr;
  const source = str(get('source'));
  if (source) ev.source = source;
  if (mac) ev.mac = mac;
  if (ip) ev.ip = ip;
  const sim = get('sim');
  if (sim !== undefined) ev.simulated = sim === true || str(sim)?.toUpperCase() === 'SIMULATED' || sim === 'true';
  if (dt) ev.deviceTime = dt;
  return ev;
}
