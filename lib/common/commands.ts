/**
 * The commands of a camera-alarm system and their `data` (docs/camera-alarm.md §8.2–§8.6):
 * the one place that validates command data and builds the error objects of docs/camera-alarm.md §8.2
 * (`{ loc, msg, type }`, with the wording and coercion rules written there). The API's envelope (lib/api/envelope.ts), the
 * hub (lib/system/hub.ts), the alarm (lib/alarm/alarm.ts) and the `vigil-alarm` node's wire
 * commands all validate through {@link validateData}, so a command means the same whichever
 * way it arrives. Framework-free, no I/O.
 *
 * Durations from outside (`silenceFor`, `shutdownIn`) are refused above
 * `MAX_DURATION_MS` (366 days, lib/common/timer.ts) with a `not_le` error in the docs/camera-alarm.md §8.2 shape:
 * a timer longer than a Node.js timer holds must never fire at once.
 */
import { MAX_DURATION_MS, durationProblem } from './timer';
import type { CommandName, ConfigError } from '../system/types';

/** The commands a client of the API may send (docs/camera-alarm.md §8.2). */
export type ApiCommand = 'silence' | 'test' | 'config_update' | 'shutdown';
export const API_COMMANDS: readonly ApiCommand[] = ['silence', 'test', 'config_update', 'shutdown'];

/** Every command a system handles: the API's four plus the alarm's `on` / `off` (wire only). */
export const COMMANDS: readonly CommandName[] = ['silence', 'test', 'config_update', 'shutdown', 'on', 'off'];

/** The longest `silenceFor` / `shutdownIn` accepted, in seconds (366 days). */
export const MAX_DURATION_S = MAX_DURATION_MS / 1000;

// ---------------------------------------------------------------- error builders (docs/camera-alarm.md §8.2)

export const missing = (loc: Array<string | number>): ConfigError => ({ loc, msg: 'field required', type: 'value_error.missing' });
export const notDict = (loc: Array<string | number>): ConfigError => ({ loc, msg: 'value is not a valid dict', type: 'type_error.dict' });
export const notList = (loc: Array<string | number>): ConfigError => ({ loc, msg: 'value is not a valid list', type: 'type_error.list' });
export const notStr = (loc: Array<string | number>): ConfigError => ({ loc, msg: 'str type expected', type: 'type_error.str' });
export const notFloat = (loc: Array<string | number>): ConfigError => ({ loc, msg: 'value is not a valid float', type: 'type_error.float' });
export const notBool = (loc: Array<string | number>): ConfigError => ({ loc, msg: 'value could not be parsed to a boolean', type: 'type_error.bool' });
export const notInt = (loc: Array<string | number>): ConfigError => ({ loc, msg: 'value is not a valid integer', type: 'type_error.integer' });
export const notGe = (loc: Array<string | number>, limit: number): ConfigError => ({ loc, msg: `ensure this value is greater than or equal to ${limit}`, type: 'value_error.number.not_ge' });
export const notLe = (loc: Array<string | number>, limit: number): ConfigError => ({ loc, msg: `ensure this value is less than or equal to ${limit}`, type: 'value_error.number.not_le' });
/** A free-text validation error (`value_error` or a more specific type). */
export const valueError = (loc: Array<string | number>, msg: string, type = 'value_error'): ConfigError => ({ loc, msg, type });

/** The error of an unknown or non-string `command`. */
export function badCommand(permitted: readonly string[] = API_COMMANDS): ConfigError {
  return { loc: ['command'], msg: `value is not a valid enumeration member; permitted: ${permitted.map((c) => `'${c}'`).join(', ')}`, type: 'type_error.enum' };
}

/** "data.shutdownIn: value is not a valid integer; …" (for logs and `done(err)`). */
export function describeErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => `${e.loc.join('.')}: ${e.msg}`).join('; ');
}

// ---------------------------------------------------------------- coercion (docs/camera-alarm.md §8.2)

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** First present key among camelCase/snake_case spellings. */
function pick(data: Record<string, unknown>, keys: string[]): { key: string; value: unknown } | undefined {
  for (const k of keys) if (Object.prototype.hasOwnProperty.call(data, k)) return { key: k, value: data[k] };
  return undefined;
}

/**
 * A duration in seconds under `key` (or its snake_case `alias`), read by `parse` (`notA` when
 * it is not one), at most {@link MAX_DURATION_S}; handed on as `{ [key]: seconds }`.
 */
function durationData(
  data: Record<string, unknown>,
  key: string,
  alias: string,
  parse: (v: unknown) => number | undefined,
  notA: (loc: Array<string | number>) => ConfigError,
): { data: Record<string, unknown> } | { errors: ConfigError[] } {
  const f = pick(data, [key, alias]);
  if (!f) return { errors: [missing(['data', key])] };
  const n = parse(f.value);
  if (n === undefined) return { errors: [notA(['data', f.key])] };
  const e = durationError(['data', f.key], n);
  return e ? { errors: [e] } : { data: { [key]: n } };
}

/** A float field (docs/camera-alarm.md §8.2): numbers and numeric strings; booleans count as 0/1. */
export function asFloat(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && v.length <= 64) {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

/** An int field (docs/camera-alarm.md §8.2): integers, floats truncated, integer strings. */
export function asInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.length <= 64 && /^\s*[-+]?\d+\s*$/.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A duration in seconds from outside: ≥ 0 and at most {@link MAX_DURATION_S}. */
function durationError(loc: Array<string | number>, seconds: number): ConfigError | undefined {
  if (seconds < 0) return notGe(loc, 0);
  if (durationProblem(seconds * 1000, String(loc[loc.length - 1])) !== undefined) return notLe(loc, MAX_DURATION_S);
  return undefined;
}

/**
 * Validate `data` for one command. Returns the normalised data (camelCase keys) or the error
 * list. `on` / `off` take no data.
 */
export function validateData(command: CommandName, data: unknown): { data: Record<string, unknown> } | { errors: ConfigError[] } {
  if (command === 'on' || command === 'off') return { data: {} };
  if (data === undefined) return { errors: [missing(['data'])] };
  if (!isPlainObject(data)) return { errors: [notDict(['data'])] };
  switch (command) {
    case 'silence':
      return durationData(data, 'silenceFor', 'silence_for', asFloat, notFloat);
    case 'test': {
      const f = pick(data, ['excluded']);
      if (!f) return { errors: [missing(['data', 'excluded'])] };
      if (!Array.isArray(f.value)) return { errors: [notList(['data', 'excluded'])] };
      const errors: ConfigError[] = [];
      const names: string[] = [];
      f.value.forEach((item: unknown, i: number) => {
        if (typeof item === 'string') names.push(item);
        else if (typeof item === 'number' && Number.isFinite(item)) names.push(String(item));
        else errors.push(notStr(['data', 'excluded', i]));
      });
      return errors.length ? { errors } : { data: { excluded: names } };
    }
    case 'config_update': {
      const f = pick(data, ['config']);
      if (!f) return { errors: [missing(['data', 'config'])] };
      if (!isPlainObject(f.value)) return { errors: [notDict(['data', 'config'])] };
      return { data: { config: f.value } };
    }
    case 'shutdown':
      return durationData(data, 'shutdownIn', 'shutdown_in', asInt, notInt);
    default:
      return { errors: [badCommand(COMMANDS)] };
  }
}
