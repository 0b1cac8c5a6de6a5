/**
 * The one HALO template engine. A template is the string a user types on the HALO's
 * Integration page (set, reset or heartbeat string). The same parse serves two ends:
 *
 * - {@link expandTemplate}: fill tokens with values (what the HALO / the simulator sends);
 * - {@link compileTemplate}: turn the template into a matcher that pulls the token values
 *   back out of a received message (what the receiver does).
 *
 * Escapes typed into the template (`\n`, `\r`, `\t`, `\\`, `\uXXXX`; halo.md §3.3) are
 * decoded as the HALO does before sending. Text between `%…%` that is not a documented
 * token (halo.md §3.1) stays literal, exactly like the HALO leaves `%UNKNOWN%` alone.
 */
import { isToken, type TokenValues } from './tokens';

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'token'; name: string };

/** Longest token name we look for between two `%` (keeps scanning linear). */
const MAX_TOKEN_LENGTH = 48;

/** Split a template into literal text and tokens, decoding backslash escapes in the text. */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  const flush = (): void => {
    if (text.length > 0) parts.push({ kind: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c === '\\' && i + 1 < template.length) {
      const n = template[i + 1];
      if (n === 'n') text += '\n';
      else if (n === 'r') text += '\r';
      else if (n === 't') text += '\t';
      else if (n === '\\') text += '\\';
      else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(template.slice(i + 2, i + 6))) {
        text += String.fromCharCode(parseInt(template.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      } else {
        text += c; // not an escape the HALO knows: the backslash stays
        i += 1;
        continue;
      }
      i += 2;
      continue;
    }
    if (c === '%') {
      const end = template.indexOf('%', i + 1);
      if (end > i + 1 && end - i - 1 <= MAX_TOKEN_LENGTH) {
        const name = template.slice(i + 1, end);
        if (isToken(name)) {
          flush();
          parts.push({ kind: 'token', name });
          i = end + 1;
          continue;
        }
      }
    }
    text += c;
    i += 1;
  }
  flush();
  return parts;
}

/** Replace every token with its value; tokens without a value stay literal (`%UID%`). */
export function expandTemplate(template: string | TemplatePart[], values: TokenValues): string {
  const parts = typeof template === 'string' ? parseTemplate(template) : template;
  let out = '';
  for (const p of parts) {
    if (p.kind === 'text') out += p.text;
    else {
      const v = values[p.name];
      out += v === undefined ? `%${p.name}%` : v;
    }
  }
  return out;
}

/** Token values pulled out of a message: token name (no `%`) → text as received. */
export type MatchedTokens = Record<string, string>;

export interface CompiledTemplate {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** Names of the tokens in the template, in order (duplicates kept). */
  readonly tokens: readonly string[];
  /** Characters of literal text: more literal text = a more specific template. */
  readonly literalLength: number;
  /** The token values if `message` is an expansion of this template, else `undefined`. */
  match(message: string): MatchedTokens | undefined;
}

export interface CompileOptions {
  /**
   * Message terminators the transport may strip or leave (e.g. `;` with delimiter framing).
   * A template that ends with one matches a message with or without it. Trailing white
   * space (the usual `\n`) is always optional.
   */
  terminators?: string[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * Specific shapes, used only where two tokens touch with no literal text between them
 * (e.g. `%IP%%MAC%`); elsewhere the literal text around a token delimits it. Only these
 * tokens may be followed directly by another token (see {@link TemplateError}).
 */
const TIGHT_PATTERNS: Record<string, string> = {
  MAC: '[0-9A-Fa-f]{12}|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}',
  IP: '\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f:]+',
  VAL: '-?\\d+(?:\\.\\d+)?',
  THR: '-?\\d+(?:\\.\\d+)?',
  RSSI: '-?\\d+(?:\\.\\d+)?',
  SIGSTRENG: '-?\\d+(?:\\.\\d+)?',
  DATE: '[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}',
  TIME: '\\d{1,2}:\\d{2}(?::\\d{2})?(?:\\s?[AaPp][Mm])?',
  SIM: '(?:SIMULATED)?',
};

/** Tokens with a fixed shape: the only ones that may be followed directly by another token. */
export const TOUCHING_TOKENS: readonly string[] = Object.keys(TIGHT_PATTERNS);

/** A template that cannot be matched reliably (thrown by {@link compileTemplate}; the message says why and what to change). */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

function adjacentReason(first: string, second: string): string {
  const shaped = Object.keys(TIGHT_PATTERNS)
    .map((t) => `%${t}%`)
    .join(' ');
  return `%${first}% is followed directly by %${second}%: nothing marks where %${first}% ends. Put a separator between them (e.g. %${first}%/%${second}%), as on the HALO; only ${shaped} may touch the next token`;
}

/**
 * Compile a template into a matcher (see {@link CompiledTemplate}). Matching is a single
 * left-to-right scan, linear in the message for every template: a free-text token ends at the
 * first occurrence of the literal text after it. Throws {@link TemplateError} for a template
 * where a free-text token touches the next token (`%NAME%%EID%`).
 */
export function compileTemplate(template: string, opts: CompileOptions = {}): CompiledTemplate {
  const parts = parseTemplate(template).slice();
  const terminators = (opts.terminators ?? []).filter((t) => t.length > 0);
  // Drop trailing white space and terminators from the template: they are optional at the end.
  for (;;) {
    const last = parts[parts.length - 1];
    if (!last || last.kind !== 'text') break;
    let t = last.text.replace(/\s+$/, '');
    for (const term of terminators) {
      if (t.endsWith(term)) t = t.slice(0, -term.length).replace(/\s+$/, '');
    }
    if (t === last.text) break;
    if (t.length === 0) parts.pop();
    else parts[parts.length - 1] = { kind: 'text', text: t };
  }
  const first = parts[0];
  if (first && first.kind === 'text') {
    const t = first.text.replace(/^\s+/, '');
    if (t.length === 0) parts.shift();
    else parts[0] = { kind: 'text', text: t };
  }

  const tokens: string[] = [];
  let literalLength = 0;
  /** Where a token touches the next one: the sticky matcher of its fixed shape. */
  const tightAt = new Map<number, RegExp>();
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.kind === 'text') {
      literalLength += p.text.length;
      continue;
    }
    tokens.push(p.name);
    const next = parts[i + 1];
    if (next === undefined || next.kind !== 'token') continue;
    const tight = TIGHT_PATTERNS[p.name];
    // Nothing marks where a free-text token ends when another token follows at once: any
    // split would be a guess, and the backtracking that tries them all is exponential on
    // hostile text. Refused here, with the way out, instead of matched slowly or wrongly.
    if (!tight) throw new TemplateError(adjacentReason(p.name, next.name));
    tightAt.set(i, new RegExp(`%${escapeRegExp(p.name)}%|${tight}`, 'y'));
  }

  const collect = (values: Array<string | undefined>): MatchedTokens => {
    const out: MatchedTokens = {};
    for (let i = 0; i < tokens.length; i++) {
      const name = tokens[i];
      const v = values[i];
      // A token the HALO had no value for arrives verbatim: it carries nothing.
      if (v === undefined || v === `%${name}%` || name in out) continue;
      out[name] = v;
    }
    return out;
  };

  const isTail = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
  /** End of the message without trailing white space and terminators. */
  const trimmedEnd = (m: string): number => {
    let end = m.length;
    for (;;) {
      if (end > 0 && isTail(m[end - 1])) {
        end--;
        continue;
      }
      const t = terminators.find((x) => end >= x.length && m.startsWith(x, end - x.length));
      if (t === undefined) break;
      end -= t.length;
    }
    return end;
  };

  /**
   * Linear-time match without backtracking: a token's value ends at the first occurrence of
   * the literal text after it (the last literal must end the message). Immune to the
   * catastrophic backtracking a regex of many lazy groups can hit on hostile input.
   */
  const scan = (m: string): Array<string | undefined> | undefined => {
    const end = trimmedEnd(m);
    let pos = 0;
    while (pos < end && isTail(m[pos])) pos++;
    const values: Array<string | undefined> = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (p.kind === 'text') {
        if (!m.startsWith(p.text, pos)) return undefined;
        pos += p.text.length;
        if (i === parts.length - 1 && pos !== end) return undefined;
        continue;
      }
      const next = parts[i + 1];
      let stop: number;
      if (next === undefined) stop = end;
      else if (next.kind === 'text') {
        stop = i + 1 === parts.length - 1 ? end - next.text.length : m.indexOf(next.text, pos);
        if (stop < pos || stop > end) return undefined;
      } else {
        const t = tightAt.get(i);
        if (!t) return undefined;
        t.lastIndex = pos;
        const mm = t.exec(m);
        if (!mm) return undefined;
        stop = pos + mm[0].length;
      }
      if (stop > end) return undefined;
      values.push(m.slice(pos, stop));
      pos = stop;
    }
    return pos === end || parts.length === 0 ? values : undefined;
  };

  return {
    source: template,
    parts,
    tokens,
    literalLength,
    match(message: string): MatchedTokens | undefined {
      const values = scan(message);
      return values ? collect(values) : undefined;
    },
  };
}
