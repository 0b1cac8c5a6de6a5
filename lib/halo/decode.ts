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
import { parseHttpString, urlPathPart } from './httpstring';
import { compileTemplate, type CompiledTemplate, type MatchedTokens } from './template';

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
      this.candidates.push({ kind, compiled: compileTemplate(source, { terminators: opts.terminators }), body });
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
      let json: unknown;
      try {
        json = JSON.parse(t);
      } catch {
        return unknown(fallbackDevice, 'invalid JSON');
      }
      return fromJson(json, fallbackDevice);
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

const SET_WORDS = new Set(['yes', 'true', '1', 'on', 'set', 'active', 'alarm', 'start', 'started', 'triggered', 'event']);
const RESET_WORDS = new Set(['no', 'false', '0', 'off', 'reset', 'clear', 'cleared', 'inactive', 'stop', 'stopped', 'normal', 'end']);

function pick(lower: Map<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) {
    const v = lower.get(k);
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return nonEmpty(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function kindWord(v: unknown): 'set' | 'reset' | 'heartbeat' | undefined {
  if (v === undefined) return undefined;
  const w = String(v).trim().toLowerCase();
  if (w === 'heartbeat' || w === 'alive') return 'heartbeat';
  if (SET_WORDS.has(w)) return 'set';
  if (RESET_WORDS.has(w)) return 'reset';
  return undefined;
}

const STATE_KEYS = ['type', 'kind', 'alarm', 'state', 'status', 'set'];

/** The first state key present with a non-empty value: the key (lower-cased) and the value as text. */
function stateWord(lower: Map<string, unknown>): { key: string; value: string } | undefined {
  for (const key of STATE_KEYS) {
    const v = lower.get(key);
    if (v === undefined || v === null || v === '') continue;
    const value = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return { key, value: value.length > 40 ? `${value.slice(0, 40)}…` : value };
  }
  return undefined;
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

/** Map a JSON object by well-known keys; `unknown` when it names neither a device nor an event. */
export function fromJson(json: unknown, fallbackDevice: string): HaloDecoded {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return unknown(fallbackDevice, 'JSON is not an object', json);
  const lower = new Map<string, unknown>();
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) lower.set(k.toLowerCase(), v);
  const deviceName = str(pick(lower, 'device', 'name', 'devicename', 'sensorname', 'deviceid', 'halo', 'sensor'));
  const mac = str(pick(lower, 'mac', 'macaddress'));
  const ip = str(pick(lower, 'ip', 'ipaddress'));
  const device = deviceName ?? mac ?? ip ?? fallbackDevice;
  const event = str(pick(lower, 'event', 'eid', 'eventtype', 'eventid', 'eventname'));
  const dt = deviceTime(str(pick(lower, 'date', 'localeventdate')), str(pick(lower, 'time', 'localeventtime')));
  const tokens: MatchedTokens = {};

  let kind = kindWord(pick(lower, 'type', 'kind'));
  if (kind === undefined) kind = kindWord(pick(lower, 'alarm', 'state', 'status', 'set'));
  if (kind === undefined && typeof lower.get('active') === 'boolean') kind = lower.get('active') ? 'set' : 'reset';
  if (kind === undefined && (lower.has('alive') || lower.has('heartbeat'))) kind = 'heartbeat';
  if (kind === undefined && event !== undefined) {
    // A state key whose word we do not know ("alarm":"ended"): guessing "set" could raise a
    // false alarm (or hide a reset), so it is unknown — with the word in the reason.
    const word = stateWord(lower);
    if (word) return unknown(device, `unrecognised state "${word.value}" in "${word.key}"`, json);
    kind = 'set';
  }
  if (kind === undefined && deviceName !== undefined && (lower.has('events') || lower.has('sensors') || lower.has('active'))) kind = 'heartbeat';
  if (kind === undefined || (kind !== 'heartbeat' && event === undefined && deviceName === undefined)) {
    return unknown(device, 'JSON names no HALO event or heartbeat', json);
  }

  if (kind === 'heartbeat') {
    const hb: HaloHeartbeatData = { kind, device, online: true, active: [], events: {}, sensors: {}, tokens };
    const evs = lower.get('events');
    if (typeof evs === 'string') {
      const p = parseEvents(evs);
      hb.events = p.events;
      hb.active = p.active;
    } else hb.events = numbersOf(evs, parseEventVals);
    const act = lower.get('active');
    if (typeof act === 'string') hb.active = parseActive(act);
    else if (Array.isArray(act)) hb.active = act.map(String);
    hb.sensors = numbersOf(lower.get('sensors'), (s) => (s.includes('@') ? parseAllSensorsAt(s) : s.includes('\n') ? parseAllSensorsNL(s) : parseAllSensors(s)));
    if (mac) hb.mac = mac;
    if (ip) hb.ip = ip;
    const alive = str(lower.get('alive'));
    if (dt ?? alive) hb.deviceTime = dt ?? alive;
    return hb;
  }
  const ev: HaloEventData = { kind, device, event: event ?? 'event', active: kind === 'set', tokens };
  const value = pick(lower, 'value', 'val');
  if (typeof value === 'number') ev.value = value;
  else if (typeof value === 'string' && valueOf(value) !== undefined) ev.value = valueOf(value);
  const thr = pick(lower, 'threshold', 'thr');
  if (typeof thr === 'number') ev.threshold = thr;
  else if (typeof thr === 'string' && valueOf(thr) !== undefined) ev.threshold = valueOf(thr);
  const source = str(lower.get('source'));
  if (source) ev.source = source;
  if (mac) ev.mac = mac;
  if (ip) ev.ip = ip;
  const sim = lower.get('sim') ?? lower.get('simulated');
  if (sim !== undefined) ev.simulated = sim === true || String(sim).trim().toUpperCase() === 'SIMULATED' || sim === 'true';
  if (dt) ev.deviceTime = dt;
  return ev;
}
