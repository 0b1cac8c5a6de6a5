/**
 * The Event Data URL's JSON (docs/halo.md §6.3) normalised into one shape, and the diff of two
 * successive snapshots (value/active changes and set/reset edges).
 *
 * `event_state` is an object keyed by event id (plus helper keys such as `$info$` and
 * `$clock$`, skipped). There is no `state` field: an event is set when `log_set === 1`,
 * falling back to `msg_set === 1`, then `above === true` (docs/halo.md §6.3). Thresholds come
 * from the event definitions (`eventgen.events`, an array of `{id, threshold, operator,…}`).
 */
import type { HaloValue } from './aggregates';

export interface EventStateEntry {
  value: HaloValue | null;
  raw: HaloValue | null;
  active: boolean;
  threshold?: HaloValue;
  operator?: string;
  source?: string;
}

export interface Snapshot {
  device: string;
  polledAt: number;
  active: string[];
  events: Record<string, EventStateEntry>;
}

export interface Threshold {
  threshold?: HaloValue;
  operator?: string;
  source?: string;
}

function val(v: unknown): HaloValue | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = v.trim();
    const n = Number(t);
    return t !== '' && Number.isFinite(n) ? n : t;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

function flag(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v === '1' || v.toLowerCase() === 'true';
  return undefined;
}

export class EventStateError extends Error {}

/** `event_state` JSON → `{ id: {value, raw, active} }`. Throws {@link EventStateError} on a wrong shape. */
export function normaliseEventState(json: unknown): Record<string, EventStateEntry> {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new EventStateError('event state is not a JSON object');
  const out: Record<string, EventStateEntry> = {};
  for (const [id, e] of Object.entries(json as Record<string, unknown>)) {
    if (id.startsWith('$') || !e || typeof e !== 'object' || Array.isArray(e)) continue;
    const o = e as Record<string, unknown>;
    const active = flag(o.log_set) ?? flag(o.msg_set) ?? flag(o.above) ?? flag(o.active) ?? false;
    out[id] = { value: val(o.val ?? o.value), raw: val(o.rawval ?? o.raw ?? o.val), active };
  }
  return out;
}

/** Event definitions JSON (array, `{events:[…]}` or an object keyed by id) → thresholds by id. */
export function normaliseThresholds(json: unknown): Map<string, Threshold> {
  const out = new Map<string, Threshold>();
  let list: unknown[] = [];
  if (Array.isArray(json)) list = json;
  else if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    const inner = o.events ?? (o.eventgen as Record<string, unknown> | undefined)?.events;
    if (Array.isArray(inner)) list = inner;
    else list = Object.entries(o).map(([id, v]) => (v && typeof v === 'object' ? { id, ...(v as object) } : undefined));
  }
  for (const item of list) {
    if (!item || typeof item !== 'object') continue;
    const o = item as Record<string, unknown>;
    const id = typeof o.id === 'string' ? o.id : typeof o.eid === 'string' ? o.eid : undefined;
    if (!id) continue;
    const t: Threshold = {};
    const thr = val(o.threshold);
    if (thr !== null) t.threshold = thr;
    if (typeof o.operator === 'string') t.operator = o.operator;
    if (typeof o.source === 'string') t.source = o.source;
    out.set(id, t);
  }
  return out;
}

export function makeSnapshot(device: string, polledAt: number, states: Record<string, EventStateEntry>, thresholds?: Map<string, Threshold>): Snapshot {
  const events: Record<string, EventStateEntry> = {};
  const active: string[] = [];
  for (const [id, s] of Object.entries(states)) {
    const e: EventStateEntry = { ...s };
    const t = thresholds?.get(id);
    if (t?.threshold !== undefined) e.threshold = t.threshold;
    if (t?.operator !== undefined) e.operator = t.operator;
    if (t?.source !== undefined) e.source = t.source;
    events[id] = e;
    if (e.active) active.push(id);
  }
  return { device, polledAt, active, events };
}

export interface EventChange {
  event: string;
  next: EventStateEntry;
  /** `undefined` on the first poll or for a new event. */
  previous?: EventStateEntry;
  /** A set/reset edge (on the first poll, an event already set counts as `set`). */
  transition?: 'set' | 'reset';
}

/** What changed between two snapshots: active state or value. Events that vanished are ignored. */
export function diffSnapshots(prev: Snapshot | undefined, next: Snapshot): EventChange[] {
  const out: EventChange[] = [];
  for (const [id, n] of Object.entries(next.events)) {
    const p = prev?.events[id];
    if (!p) {
      const c: EventChange = { event: id, next: n };
      if (n.active) c.transition = 'set';
      out.push(c);
      continue;
    }
    if (p.active !== n.active || p.value !== n.value) {
      const c: EventChange = { event: id, next: n, previous: p };
      if (p.active !== n.active) c.transition = n.active ? 'set' : 'reset';
      out.push(c);
    }
  }
  return out;
}
