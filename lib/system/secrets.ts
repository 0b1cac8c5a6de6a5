/**
 * The one secret-masking module of a camera-alarm system: what `/config` serves in place of a
 * secret, and when a masked value sent back in a `config_update` may be restored.
 *
 * Served (`maskSection`):
 * - a member's declared `secretKeys`, and any key named like a secret (`api_key`, `password`,
 *   `token`, `secret`, `passphrase`, `private_key`, …, at any depth), become `********`;
 * - a URL (`scheme://…`, a declared `urlKeys` entry or any string value that looks like one)
 *   keeps its scheme, host, port, path and user name, but every credential-bearing part is
 *   masked: the password of `user:pass@` (or the whole user-info when it has no `:` — it may
 *   be a token), and password-like parameters (`pwd=`, `password=`, `token=`, `key=`, `auth=`,
 *   `sig=`, … in the query or in `;`/`&`-separated path segments). The user-info ends at the
 *   URL's LAST `@`, so a password containing `/`, `?`, `#` or `@` is masked whole.
 *
 * Sent back (`unmaskSection`): a secret travels with the fields that decide where it goes —
 * host, port, user, API base, URL scheme/host/port/user, host fingerprint (`destinationKeys`
 * plus the well-known names). A masked (or left-out) secret is restored ONLY when every one of
 * those fields is unchanged. When one changed, the request must carry the secret itself, or it
 * is refused with a `value_error.secret` error naming the fields. A member that uses secrets
 * kept outside its section (`heldSecrets`: a node's credentials, e.g. the camera's
 * user/password, the siren's SSH password) refuses any run-time change of its destination
 * fields: those credentials may only go where the editor's settings sent them.
 *
 * Framework-free, no I/O. Submitted values have been through the bounded JSON reader, so the
 * recursive walks here are bounded by its depth limit.
 */
import { isPlainObject, valueError } from '../common/commands';
import type { ConfigError, ConfigSection, SectionMember } from './types';

/** What a secret looks like when served. */
export const SECRET_MASK = '********';

/** What masking needs to know about a member. */
export type SecretSpec = Pick<SectionMember, 'secretKeys' | 'urlKeys' | 'destinationKeys' | 'heldSecrets'>;

/** Keys whose values are secrets wherever they appear (a second line behind the declared `secretKeys`). */
const SECRET_KEY = /(^|_)(api_?key|password|passwd|passphrase|secret|token|private_?key|pwd)$/i;
/** URL parameters that carry a credential. */
const SECRET_PARAM = /^(.*[_-])?(pass|password|passwd|passphrase|pwd|psw|secret|token|access_?token|api_?key|apikey|key|auth|authorization|sig|signature|credentials?)$/i;
/** Keys that decide where a section's secrets go (beside the declared `destinationKeys`). */
const DEST_KEY = /(^|_)(host|host_?name|hostname|port|user|user_?name|username|login|url|uri|api_?base|base_?url|api_?url|endpoint|address|fingerprint)$/i;
const URL_LIKE = /^\s*[a-z][a-z0-9+.-]*:\/\//i;
/** `sep key=value` inside a URL's path or query. */
const PARAM = /([?&;/])([^=&;#/?]+)=([^&;#]*)/g;

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

interface UrlParts {
  scheme: string;
  /** Everything before the last `@` (undefined: none). */
  userinfo?: string;
  user?: string;
  password?: string;
  hostport: string;
  /** Path, query and fragment. */
  rest: string;
}

/** Split `scheme://[userinfo@]hostport[rest]`; undefined for anything else. */
function parseUrl(url: string): UrlParts | undefined {
  const m = /^\s*([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(url);
  if (!m) return undefined;
  const after = m[2];
  const at = after.lastIndexOf('@');
  const userinfo = at >= 0 ? after.slice(0, at) : undefined;
  const tail = at >= 0 ? after.slice(at + 1) : after;
  const end = tail.search(/[/?#]/);
  const hostport = end >= 0 ? tail.slice(0, end) : tail;
  const rest = end >= 0 ? tail.slice(end) : '';
  let user: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    password = colon >= 0 ? userinfo.slice(colon + 1) : undefined;
  }
  return { scheme: m[1], userinfo, user, password, hostport, rest };
}

function params(rest: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of rest.matchAll(PARAM)) out.push([safeDecode(m[2]).toLowerCase(), m[3]]);
  return out;
}

function join(p: UrlParts, userinfo: string | undefined, rest: string): string {
  return `${p.scheme}://${userinfo !== undefined ? `${userinfo}@` : ''}${p.hostport}${rest}`;
}

/** A URL with every credential-bearing part masked (anything that is not a URL: unchanged). */
export function maskUrl(url: string): string {
  const p = parseUrl(url);
  if (!p) return url;
  let userinfo = p.userinfo;
  if (userinfo !== undefined && userinfo !== '') userinfo = p.password === undefined ? SECRET_MASK : p.password === '' ? userinfo : `${p.user}:${SECRET_MASK}`;
  const rest = p.rest.replace(PARAM, (all: string, sep: string, k: string, v: string) => (v !== '' && SECRET_PARAM.test(safeDecode(k)) ? `${sep}${k}=${SECRET_MASK}` : all));
  return join(p, userinfo, rest);
}

/** True when a URL carries a credential (user-info or a password-like parameter). */
export function urlHasCredentials(url: string): boolean {
  return maskUrl(url) !== url;
}

/** Same scheme, host, port and user (a masked user-info counts as the same). */
function sameUrlDestination(submitted: string, stored: string): boolean {
  const s = parseUrl(submitted);
  const c = parseUrl(stored);
  if (!s || !c) return submitted.trim() === stored.trim();
  if (s.scheme.toLowerCase() !== c.scheme.toLowerCase() || s.hostport.toLowerCase() !== c.hostport.toLowerCase()) return false;
  if (s.userinfo === SECRET_MASK) return c.userinfo !== undefined;
  return s.user === c.user;
}

/** The stored URL's credentials put back where `submitted` has the mask; undefined when that can't be done. */
function restoreUrl(submitted: string, stored: string): string | undefined {
  const s = parseUrl(submitted);
  const c = parseUrl(stored);
  if (!s || !c || !sameUrlDestination(submitted, stored)) return undefined;
  let userinfo = s.userinfo;
  if (userinfo === SECRET_MASK) userinfo = c.userinfo;
  else if (s.password === SECRET_MASK) {
    if (c.password === undefined) return undefined;
    userinfo = `${s.user}:${c.password}`;
  }
  const storedParams = params(c.rest);
  const seen = new Map<string, number>();
  let failed = false;
  const rest = s.rest.replace(PARAM, (all: string, sep: string, k: string, v: string) => {
    const key = safeDecode(k).toLowerCase();
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    if (v !== SECRET_MASK) return all;
    const match = storedParams.filter(([sk]) => sk === key)[n];
    if (!match) failed = true;
    return match ? `${sep}${k}=${match[1]}` : all;
  });
  const out = join(s, userinfo, rest);
  return failed || out.includes(SECRET_MASK) ? undefined : out;
}

/** A value masked whole: a declared secret, or a key named like one (unless its value is a URL: then only its credentials are). */
function isWholeSecret(spec: SecretSpec, key: string, value: unknown): boolean {
  return (spec.secretKeys ?? []).includes(key) || (SECRET_KEY.test(key) && !(typeof value === 'string' && URL_LIKE.test(value)));
}

function isUrlKey(spec: SecretSpec, key: string, ...values: unknown[]): boolean {
  return (spec.urlKeys ?? []).includes(key) || values.some((v) => typeof v === 'string' && URL_LIKE.test(v));
}

function filled(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

function maskDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskDeep);
  if (typeof v === 'string') return URL_LIKE.test(v) ? maskUrl(v) : v;
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) && filled(x) ? SECRET_MASK : maskDeep(x);
  return out;
}

/** A copy of a member's section as served: every secret and credential-bearing URL part masked. */
export function maskSection(spec: SecretSpec, value: ConfigSection): ConfigSection {
  const out: ConfigSection = {};
  for (const [k, v] of Object.entries(value)) {
    if (isWholeSecret(spec, k, v) && filled(v)) out[k] = SECRET_MASK;
    else if (typeof v === 'string' && isUrlKey(spec, k, v)) out[k] = maskUrl(v);
    else out[k] = maskDeep(v);
  }
  return out;
}

function sameScalar(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const scalar = (x: unknown): boolean => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  if (scalar(a) && scalar(b)) return String(a).trim() === String(b).trim();
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The destination fields of a section whose submitted value differs from the stored one. */
export function changedDestinations(spec: SecretSpec, submitted: ConfigSection, stored: ConfigSection): string[] {
  const keys = new Set([...Object.keys(submitted), ...(spec.destinationKeys ?? []), ...(spec.urlKeys ?? [])]);
  const changed: string[] = [];
  for (const k of keys) {
    const s = submitted[k];
    if (s === undefined || s === null) continue; // left out: the stored value is kept
    const c = stored[k];
    if (isWholeSecret(spec, k, c ?? s)) continue;
    if (isUrlKey(spec, k, s, c)) {
      if (typeof s !== 'string' || typeof c !== 'string' || !sameUrlDestination(s, c)) changed.push(k);
    } else if ((spec.destinationKeys ?? []).includes(k) || DEST_KEY.test(k)) {
      if (!sameScalar(s, c)) changed.push(k);
    }
  }
  return changed;
}

function keptMessage(what: string, changed: string[]): string {
  return `${what} is masked (or left out) while ${changed.join(', ')} changed: a masked secret is kept only while every field that decides where it goes stays the same — send the secret itself to change ${changed.length > 1 ? 'them' : 'it'}`;
}

function restoreNested(sub: unknown, cur: unknown, loc: Array<string | number>, changed: string[], errors: ConfigError[]): unknown {
  if (Array.isArray(sub)) return sub.map((x, i) => restoreNested(x, Array.isArray(cur) ? cur[i] : undefined, [...loc, i], changed, errors));
  if (!isPlainObject(sub)) return sub;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(sub)) {
    const c = isPlainObject(cur) ? cur[k] : undefined;
    if (x === SECRET_MASK && SECRET_KEY.test(k)) {
      if (!filled(c)) errors.push(valueError([...loc, k], `${k} is the mask "${SECRET_MASK}" but there is no stored secret to keep`, 'value_error.secret'));
      else if (changed.length > 0) errors.push(valueError([...loc, k], keptMessage(k, changed), 'value_error.secret'));
      else out[k] = c;
    } else out[k] = restoreNested(x, c, [...loc, k], changed, errors);
  }
  return out;
}

/**
 * A submitted section with its masked secrets restored from `stored` (the member's live
 * settings), or the errors (loc under `loc`, e.g. `["alerters","telegram"]`) when a secret
 * would go to a changed destination, or a mask has nothing to restore.
 */
export function unmaskSection(
  spec: SecretSpec,
  submitted: ConfigSection,
  stored: ConfigSection,
  loc: Array<string | number>,
): { value: ConfigSection } | { errors: ConfigError[] } {
  const changed = changedDestinations(spec, submitted, stored);
  const errors: ConfigError[] = [];
  const out: ConfigSection = {};
  if (spec.heldSecrets && changed.length > 0) {
    errors.push(
      valueError(
        [...loc, changed[0]],
        `${changed.join(', ')} can't change at run time while this node holds credentials (they would go to, or be used with, the new value) — change it in the node's settings in the editor`,
        'value_error.secret',
      ),
    );
  }
  // Declared secrets that are left out are kept too: they count as masked.
  const keys = new Set([...Object.keys(submitted), ...(spec.secretKeys ?? [])]);
  for (const k of keys) {
    const s = submitted[k];
    const c = stored[k];
    if (isWholeSecret(spec, k, c ?? s)) {
      if (s !== undefined && s !== null && s !== SECRET_MASK) {
        out[k] = s; // carries its own value
      } else if (s === SECRET_MASK && !filled(c)) {
        errors.push(valueError([...loc, k], `${k} is the mask "${SECRET_MASK}" but there is no stored secret to keep`, 'value_error.secret'));
      } else if (filled(c) && changed.length > 0) {
        errors.push(valueError([...loc, k], keptMessage(k, changed), 'value_error.secret'));
      } else if (s === SECRET_MASK) {
        out[k] = c;
      } else if (s !== undefined) out[k] = s;
      continue;
    }
    if (s === undefined) continue;
    if (typeof s === 'string' && s.includes(SECRET_MASK) && isUrlKey(spec, k, s, c)) {
      const others = changed.filter((x) => x !== k);
      const restored = typeof c === 'string' && others.length === 0 ? restoreUrl(s, c) : undefined;
      if (restored === undefined) {
        errors.push(
          valueError(
            [...loc, k],
            others.length > 0
              ? keptMessage(`${k}'s credentials`, others)
              : `${k}'s credentials are masked but its scheme, host, port or user changed (or the masked part has no stored value): a masked credential is kept only while the URL still points where it did — send the credentials themselves`,
            'value_error.secret',
          ),
        );
      } else out[k] = restored;
      continue;
    }
    out[k] = restoreNested(s, c, [...loc, k], changed, errors);
  }
  return errors.length > 0 ? { errors } : { value: out };
}
