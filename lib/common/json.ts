/**
 * The one bounded JSON reader for input that came from a network (HALO pushes, Isotel bodies,
 * API commands, HTTP replies). `JSON.parse` alone accepts any nesting depth and any number of
 * keys; the values it builds then overflow the stack of whatever walks them later (a
 * `String()` of a deep array, Node-RED's message clone, `JSON.stringify`). This reader scans the
 * text once, in linear time and without recursion, and refuses it — with a reason a person can
 * act on — before anything is built when it is too long, too deep, has too many values or an
 * over-long string. Only then is `JSON.parse` called, so a value returned here is always safe
 * to walk recursively to its depth.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface JsonLimits {
  /** Longest accepted text, in UTF-16 code units (≈ bytes for ASCII). Default 1 MiB. */
  maxLength?: number;
  /** Deepest accepted nesting of arrays/objects (a flat object is depth 1). Default 32. */
  maxDepth?: number;
  /** Most values (object members + array elements, all levels). Default 10 000. */
  maxValues?: number;
  /** Longest accepted string literal (code units, escapes counted as written). Default 256 KiB. */
  maxString?: number;
}

export const DEFAULT_JSON_LIMITS: Required<JsonLimits> = {
  maxLength: 1024 * 1024,
  maxDepth: 32,
  maxValues: 10_000,
  maxString: 256 * 1024,
};

export type JsonResult = { ok: true; value: Json } | { ok: false; reason: string };

/**
 * Check `text` against the limits without building anything; `undefined` when within them,
 * else the reason. Syntax is left to `JSON.parse` (this only counts brackets, separators and
 * string lengths outside/inside strings), so its cost is one pass over the text.
 */
export function jsonLimitViolation(text: string, limits: JsonLimits = {}): string | undefined {
  const lim = { ...DEFAULT_JSON_LIMITS, ...limits };
  if (text.length > lim.maxLength) return `JSON text too long (${text.length} > ${lim.maxLength} characters)`;
  let depth = 0;
  let values = 0;
  let inString = false;
  let stringStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) {
        inString = false;
        if (i - stringStart > lim.maxString) return `JSON string too long (${i - stringStart} > ${lim.maxString} characters)`;
      }
      continue;
    }
    if (c === 0x22) {
      inString = true;
      stringStart = i + 1;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > lim.maxDepth) return `JSON nested too deeply (more than ${lim.maxDepth} levels)`;
      values++; // the first member/element (an empty container over-counts by one: harmless)
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    } else if (c === 0x2c /* , */) {
      values++;
    }
    if (values > lim.maxValues) return `JSON has too many values (more than ${lim.maxValues})`;
  }
  if (inString && text.length - stringStart > lim.maxString) return `JSON string too long (more than ${lim.maxString} characters)`;
  return undefined;
}

/**
 * Parse network JSON within limits. Never throws: syntax errors and limit violations come back
 * as `{ ok: false, reason }` (the reason names the limit, or is `JSON.parse`'s own message).
 */
export function readJson(text: string | Buffer, limits: JsonLimits = {}): JsonResult {
  const max = limits.maxLength ?? DEFAULT_JSON_LIMITS.maxLength;
  if (typeof text !== 'string') {
    if (text.length > max * 4) return { ok: false, reason: `JSON text too long (${text.length} bytes)` };
    text = text.toString('utf8');
  }
  // A short text needs no scan: a value nested d levels deep takes at least 2·d characters, and
  // no text holds more values or a longer string than it has characters. (The common case of
  // small network messages — a SIGNAL's data — then costs only the parse.)
  const n = text.length;
  const shortEnough =
    n < 2 * ((limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth) + 1) &&
    n <= (limits.maxValues ?? DEFAULT_JSON_LIMITS.maxValues) &&
    n <= (limits.maxString ?? DEFAULT_JSON_LIMITS.maxString) &&
    n <= max;
  const violation = shortEnough ? undefined : jsonLimitViolation(text, limits);
  if (violation) return { ok: false, reason: violation };
  // A syntax error is an expected outcome here, not a bug: skip capturing its stack trace,
  // which costs as much as the parse itself (a flood of broken messages pays it per message).
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return { ok: true, value: JSON.parse(text) as Json };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/**
 * Depth of an already-built value, counting only up to `limit + 1` (so it is cheap and safe on
 * hostile values of any depth: iterative, never recursive). Use it on values that did not come
 * through {@link readJson} before they leave a node.
 */
export function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<{ v: unknown; d: number }> = [{ v: value, d: 0 }];
  let seen = 0;
  while (stack.length > 0) {
    const { v, d } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > limit) return true;
    if (++seen > 100_000) return true; // too large to be worth walking: treat as over the limit
    const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
    for (const c of children) if (c !== null && typeof c === 'object') stack.push({ v: c, d: d + 1 });
  }
  return false;
}
