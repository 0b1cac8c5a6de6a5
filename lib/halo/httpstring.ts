/**
 * The HALO's HTTP/HTTPS string syntax (docs/halo.md §3.2):
 *
 *   [METHOD:]http(s)://host[:port]/path?query[HEADER]Name:Value…[JSONBODY]{…}[TOKENEXPR]…
 *
 * Used by the simulator to send what a HALO would send, and by the receiver to know
 * which part of an HTTP request (body, or path and query) a template describes.
 */

export interface HttpString {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  /** The `[JSONBODY]` text, if any. */
  body?: string;
  tokenExpr?: string;
}

const MARKER = /\[(HEADER|JSONBODY|TOKENEXPR)\]/g;

/** Parse a HALO HTTP string, or `undefined` when the text is not one (no `http(s)://`). */
export function parseHttpString(text: string): HttpString | undefined {
  const s = text.trim();
  let method = 'GET';
  let rest = s;
  const pm = /^(GET|POST|PUT|PATCH|DELETE):(?!\/\/)/i.exec(s);
  if (pm) {
    method = pm[1].toUpperCase();
    rest = s.slice(pm[0].length).trim();
  }
  if (!/^https?:\/\//i.test(rest)) return undefined;
  const pieces: Array<{ marker: string; text: string }> = [];
  let last = 0;
  let marker = 'URL';
  MARKER.lastIndex = 0;
  for (let m = MARKER.exec(rest); m !== null; m = MARKER.exec(rest)) {
    pieces.push({ marker, text: rest.slice(last, m.index) });
    marker = m[1];
    last = m.index + m[0].length;
    // Everything after [JSONBODY] up to a later [TOKENEXPR] is the body, markers inside included.
    if (marker === 'JSONBODY') {
      const te = rest.indexOf('[TOKENEXPR]', last);
      const end = te >= 0 ? te : rest.length;
      pieces.push({ marker, text: rest.slice(last, end) });
      marker = te >= 0 ? 'TOKENEXPR' : '';
      last = te >= 0 ? te + '[TOKENEXPR]'.length : rest.length;
      if (te < 0) break;
      MARKER.lastIndex = last;
    }
  }
  if (marker !== '') pieces.push({ marker, text: rest.slice(last) });
  const out: HttpString = { method, url: '', headers: [] };
  for (const p of pieces) {
    if (p.marker === 'URL') out.url = p.text.trim();
    else if (p.marker === 'HEADER') {
      const colon = p.text.indexOf(':');
      if (colon > 0) out.headers.push([p.text.slice(0, colon).trim(), p.text.slice(colon + 1).trim()]);
    } else if (p.marker === 'JSONBODY') out.body = p.text;
    else if (p.marker === 'TOKENEXPR') out.tokenExpr = p.text.trim();
  }
  return out;
}

/** The path-and-query part of a URL template (`http://h:1/a/b?x=1` → `/a/b?x=1`). */
export function urlPathPart(url: string): string {
  const m = /^[a-z]+:\/\/[^/?#]*(.*)$/i.exec(url.trim());
  const p = m ? m[1] : url;
  return p === '' ? '/' : p;
}
