/**
 * Parsers (receiver side) and formatters (simulator side) for the HALO aggregate tokens
 * (docs/halo.md §3.1): `%EVENTS%` (`Name=Value` list, a trailing `!` marks a set event),
 * `%EVENTVALS%` (full precision, no marks), `%ACTIVE%` (names of set events),
 * `%ALLSENSORS%` (`Id=value,…`), `%ALLSENSORS@%` (`Id=@value@ …`, Genetec) and
 * `%ALLSENSORSNL%` (one `Id=value` per line).
 */

/** A number when the text is one, else the trimmed text (e.g. `n/a`). */
export type HaloValue = number | string;

/** `"48.5"` → 48.5; `" -1 "` → -1; `""`/`"abc"` → undefined. */
export function toNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '' || !/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function value(text: string): HaloValue {
  const n = toNumber(text);
  return n === undefined ? text.trim() : n;
}

function pairs(items: string[], into: Record<string, HaloValue>, onPair?: (id: string, raw: string) => string): void {
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const id = item.slice(0, eq).trim();
    if (id === '') continue;
    let raw = item.slice(eq + 1);
    if (onPair) raw = onPair(id, raw);
    into[id] = value(raw);
  }
}

export interface ParsedEvents {
  events: Record<string, HaloValue>;
  /** Events marked set with `!` (only `%EVENTS%` carries marks). */
  active: string[];
}

/** `%EVENTS%`: `Health_Index=2,AQI=-1,Light=468!,Sound=48`. */
export function parseEvents(text: string): ParsedEvents {
  const events: Record<string, HaloValue> = {};
  const active: string[] = [];
  pairs(text.split(','), events, (id, raw) => {
    const t = raw.trim();
    if (t.endsWith('!')) {
      active.push(id);
      return t.slice(0, -1);
    }
    return t;
  });
  return { events, active };
}

/** `%EVENTVALS%`: like `%EVENTS%` with full precision and no marks (a stray `!` is tolerated). */
export function parseEventVals(text: string): Record<string, HaloValue> {
  return parseEvents(text).events;
}

/** `%ACTIVE%`: `Light,Vape` → `["Light","Vape"]`; empty text → `[]`. */
export function parseActive(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** `%ALLSENSORS%`: `C=19.4,F=67,RH=48.5`. */
export function parseAllSensors(text: string): Record<string, HaloValue> {
  const out: Record<string, HaloValue> = {};
  pairs(text.split(','), out);
  return out;
}

/** `%ALLSENSORS@%`: `C=@19.4@ F=@67@ RH=@48.5@`. */
export function parseAllSensorsAt(text: string): Record<string, HaloValue> {
  const out: Record<string, HaloValue> = {};
  const re = /([^\s=@]+)=@([^@]*)@/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out[m[1]] = value(m[2]);
  return out;
}

/** `%ALLSENSORSNL%`: one `Id=value` per line (`\n` or `\r\n`). */
export function parseAllSensorsNL(text: string): Record<string, HaloValue> {
  const out: Record<string, HaloValue> = {};
  pairs(text.split(/\r?\n/), out);
  return out;
}

// ---- formatters (the simulator's side) ------------------------------------------------

/** Integer-rounded like the HALO shows `%EVENTS%` values. */
function rounded(v: number): string {
  return String(Math.round(v));
}

function full(v: number): string {
  return String(Math.round(v * 100) / 100);
}

export interface EventReading {
  id: string;
  value: number;
  active: boolean;
}

export function formatEvents(events: readonly EventReading[]): string {
  return events.map((e) => `${e.id}=${rounded(e.value)}${e.active ? '!' : ''}`).join(',');
}

export function formatEventVals(events: readonly EventReading[]): string {
  return events.map((e) => `${e.id}=${full(e.value)}`).join(',');
}

export function formatActive(events: readonly EventReading[]): string {
  return events
    .filter((e) => e.active)
    .map((e) => e.id)
    .join(',');
}

export function formatAllSensors(sensors: Readonly<Record<string, number>>): string {
  return Object.entries(sensors)
    .map(([k, v]) => `${k}=${full(v)}`)
    .join(',');
}

export function formatAllSensorsAt(sensors: Readonly<Record<string, number>>): string {
  return Object.entries(sensors)
    .map(([k, v]) => `${k}=@${full(v)}@`)
    .join(' ');
}

export function formatAllSensorsNL(sensors: Readonly<Record<string, number>>): string {
  return Object.entries(sensors)
    .map(([k, v]) => `${k}=${full(v)}`)
    .join('\n');
}
