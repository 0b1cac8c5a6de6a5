/**
 * The command envelope of the API's root websocket (docs/camera-alarm.md §8.2),
 * with its quirks fixed as docs/camera-alarm.md §12 #9/#10 recommend: dispatch on `command` first, then
 * validate `data` for that command only (lib/common/commands.ts). Error shapes are those of
 * docs/camera-alarm.md §8.2:
 *  - a JSON syntax error or a refused text → `{ error: "<reason>" }` (a string),
 *  - a validation error  → `{ error: [ { loc, msg, type }, … ] }` (a list of loc/msg/type objects),
 *  - a non-object body, a missing or unknown `command` (docs/camera-alarm.md §12 #9: the reference closed the
 *    connection there) → a validation-error list too; the socket stays open.
 * Text frames and binary frames (UTF-8 JSON bytes, what several websocket libraries send by
 * default) are both commands. Every body is read through the one bounded JSON reader
 * (lib/common/json.ts), so nothing deeper or larger than its limits is ever built.
 */
import { readJson, type JsonLimits } from '../common/json';
import { API_COMMANDS, type ApiCommand, badCommand, isPlainObject, missing, notDict, validateData } from '../common/commands';
import type { CommandReply } from '../system/types';


/** A parsed, validated command, with `data` normalised to camelCase keys. */
export interface ParsedCommand {
  command: ApiCommand;
  data: Record<string, unknown>;
}

export type ParseResult = { ok: true; value: ParsedCommand } | { ok: false; reply: CommandReply };

/**
 * Limits of a command body: a whole configuration document is a few hundred values at most
 * five levels deep, so these leave room for any real client and none for a hostile one.
 */
export const ENVELOPE_LIMITS: JsonLimits = { maxLength: 1024 * 1024, maxDepth: 16, maxValues: 5000, maxString: 64 * 1024 };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of a frame: a string as is, bytes decoded as strict UTF-8 (undefined when invalid). */
export function frameText(data: string | Buffer | ArrayBuffer | Buffer[]): string | undefined {
  if (typeof data === 'string') return data;
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  try {
    return utf8.decode(buf);
  } catch {
    return undefined;
  }
}

/** Parse one message (text or binary frame) from the root websocket. Never throws. */
export function parseEnvelope(data: string | Buffer | ArrayBuffer | Buffer[]): ParseResult {
  const text = frameText(data);
  if (text === undefined) return { ok: false, reply: { error: 'the message is not valid UTF-8' } };
  const read = readJson(text, ENVELOPE_LIMITS);
  if (!read.ok) return { ok: false, reply: { error: read.reason } };
  const body = read.value;
  if (!isPlainObject(body)) return { ok: false, reply: { error: [notDict(['__root__'])] } };
  if (!Object.prototype.hasOwnProperty.call(body, 'command') || body.command === null || body.command === undefined) {
    return { ok: false, reply: { error: [missing(['command'])] } };
  }
  const command = body.command;
  if (typeof command !== 'string' || !(API_COMMANDS as readonly string[]).includes(command)) {
    return { ok: false, reply: { error: [badCommand(API_COMMANDS)] } };
  }
  const v = validateData(command as ApiCommand, body.data);
  if ('errors' in v) return { ok: false, reply: { error: v.errors } };
  return { ok: true, value: { command: command as ApiCommand, data: v.data } };
}
