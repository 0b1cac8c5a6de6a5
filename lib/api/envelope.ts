/**
 * The command envelope of the reference app's root websocket (camera-alarm.md §8.2),
 * with its quirks fixed as §12 #9/#10 recommend: dispatch on `command` first, then
 * validate `data` for that command only. Error shapes stay the reference's:
 *  - a JSON syntax error → `{ error: "<parser message>" }` (a string),
 *  - a validation error  → `{ error: [ { loc, msg, type }, … ] }` (pydantic v1 shape),
 *  - a non-object body, a missing or unknown `command` (the reference crashed the
 *    connection there) → a validation-error list too; the socket stays open.
 */
import type { CommandReply, ConfigError } from '../system/types';

export type ApiCommand = 'silence' | 'test' | 'config_update' | 'shutdown';
export const API_COMMANDS: readonly ApiCommand[] = ['silence', 'test', 'config_update', 'shutdown'];

/** A parsed, validated command, with `data` normalised to camelCase keys. */
export interface ParsedCommand {
  command: ApiCommand;
  data: Record<string, unknown>;
}

export type ParseResult = { ok: true; value: ParsedCommand } | { ok: false; reply: CommandReply };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const missing = (loc: Array<string | number>): ConfigError => ({ loc, msg: 'field required', type: 'value_error.missing' });

/** First present key among camelCase/snake_case spellings. */
function pick(data: Record<string, unknown>, keys: string[]): { key: string; value: unknown } | undefined {
  for (const k of keys) if (Object.prototype.hasOwnProperty.call(data, k)) return { key: k, value: data[k] };
  return undefined;
}

/** pydantic v1 `float`: numbers and numeric strings; booleans count as 0/1. */
function asFloat(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

/** pydantic v1 `int`: integers, integral floats truncated, integer strings. */
function asInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number(v);
  return undefined;
}

/** Validate `data` for one command. Returns the normalised data or the error list. */
export function validateData(command: ApiCommand, data: unknown): { data: Record<string, unknown> } | { errors: ConfigError[] } {
  if (data === undefined) return { errors: [missing(['data'])] };
  if (!isObject(data)) return { errors: [{ loc: ['data'], msg: 'value is not a valid dict', type: 'type_error.dict' }] };
  switch (command) {
    case 'silence': {
      const f = pick(data, ['silenceFor', 'silence_for']);
      if (!f) return { errors: [missing(['data', 'silenceFor'])] };
      const n = asFloat(f.value);
      if (n === undefined) return { errors: [{ loc: ['data', f.key], msg: 'value is not a valid float', type: 'type_error.float' }] };
      if (n < 0) return { errors: [{ loc: ['data', f.key], msg: 'ensure this value is greater than or equal to 0', type: 'value_error.number.not_ge' }] };
      return { data: { silenceFor: n } };
    }
    case 'test': {
      const f = pick(data, ['excluded']);
      if (!f) return { errors: [missing(['data', 'excluded'])] };
      if (!Array.isArray(f.value)) return { errors: [{ loc: ['data', 'excluded'], msg: 'value is not a valid list', type: 'type_error.list' }] };
      const errors: ConfigError[] = [];
      const names: string[] = [];
      f.value.forEach((item: unknown, i: number) => {
        if (typeof item === 'string') names.push(item);
        else if (typeof item === 'number' && Number.isFinite(item)) names.push(String(item));
        else errors.push({ loc: ['data', 'excluded', i], msg: 'str type expected', type: 'type_error.str' });
      });
      return errors.length ? { errors } : { data: { excluded: names } };
    }
    case 'config_update': {
      const f = pick(data, ['config']);
      if (!f) return { errors: [missing(['data', 'config'])] };
      if (!isObject(f.value)) return { errors: [{ loc: ['data', 'config'], msg: 'value is not a valid dict', type: 'type_error.dict' }] };
      return { data: { config: f.value } };
    }
    case 'shutdown': {
      const f = pick(data, ['shutdownIn', 'shutdown_in']);
      if (!f) return { errors: [missing(['data', 'shutdownIn'])] };
      const n = asInt(f.value);
      if (n === undefined) return { errors: [{ loc: ['data', f.key], msg: 'value is not a valid integer', type: 'type_error.integer' }] };
      if (n < 0) return { errors: [{ loc: ['data', f.key], msg: 'ensure this value is greater than or equal to 0', type: 'value_error.number.not_ge' }] };
      return { data: { shutdownIn: n } };
    }
  }
}

/** Parse one text message from the root websocket. */
export function parseEnvelope(text: string): ParseResult {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return { ok: false, reply: { error: err instanceof Error ? err.message : String(err) } };
  }
  if (!isObject(body)) {
    return { ok: false, reply: { error: [{ loc: ['__root__'], msg: 'value is not a valid dict', type: 'type_error.dict' }] } };
  }
  if (!Object.prototype.hasOwnProperty.call(body, 'command') || body.command === null || body.command === undefined) {
    return { ok: false, reply: { error: [missing(['command'])] } };
  }
  const command = body.command;
  if (typeof command !== 'string' || !(API_COMMANDS as readonly string[]).includes(command)) {
    return {
      ok: false,
      reply: {
        error: [
          {
            loc: ['command'],
            msg: `value is not a valid enumeration member; permitted: ${API_COMMANDS.map((c) => `'${c}'`).join(', ')}`,
            type: 'type_error.enum',
          },
        ],
      },
    };
  }
  const v = validateData(command as ApiCommand, body.data);
  if ('errors' in v) return { ok: false, reply: { error: v.errors } };
  return { ok: true, value: { command: command as ApiCommand, data: v.data } };
}
