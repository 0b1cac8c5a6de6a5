/**
 * `GET /clips` and `GET /clips/<name>` (docs/camera-alarm.md §8.1): the system's alarm clips (the recorder registers its
 * folder with the hub as a `ClipStore`; the API never looks at the disk itself).
 *
 * - `/clips`: JSON array, newest first, items `{ name, start, end, bytes, durationS }`
 *   (`[]` when the system has no recorder).
 * - `/clips/<name>`: the file, with HTTP range requests (`206 Partial Content`, one range;
 *   `416` when unsatisfiable) so browsers can seek. The name is one path segment, percent-
 *   decoded once, and must be a plain file name (letters, digits, `.`, `_`, `-`; no `..`):
 *   anything else is `400` before the store is asked, and the store answers only for the exact
 *   names of its own clips (a traversal like `..%2f` never reaches a file system call).
 * The caller has checked the token and the method (GET/HEAD).
 */
import fs from 'node:fs';
import type http from 'node:http';
import type { ClipStore } from '../system/types';

/** What a clip name may look like before the store is asked. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export type ByteRange = { start: number; end: number };

/**
 * The one range a `Range` header asks for, for a file of `size` bytes: a range, `'unsatisfiable'`
 * (answer 416), or undefined (no header, another unit, several ranges or malformed: answer the
 * whole file: a server may ignore a range, docs/camera-alarm.md §8.1).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n)) return undefined;
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (!Number.isSafeInteger(start) || (last !== Infinity && !Number.isSafeInteger(last)) || last < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last, size - 1) };
}

/** The clip name in a route `/clips/<segment>`, or undefined when it is not an acceptable name. */
export function clipNameFromRoute(rel: string): string | undefined {
  const seg = rel.slice('/clips/'.length);
  if (seg === '' || seg.includes('/')) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(seg);
  } catch {
    return undefined;
  }
  if (!SAFE_NAME.test(name) || name.includes('..')) return undefined;
  return name;
}

function plain(res: http.ServerResponse, status: number, text: string, head: boolean): void {
  const body = Buffer.from(`${text}\n`);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, 'Access-Control-Allow-Origin': '*' });
  res.end(head ? undefined : body);
}

/** Answer `/clips` or `/clips/<name>` (`rel`). Never throws; errors become 4xx/5xx answers. */
export async function serveClips(store: ClipStore | undefined, req: http.IncomingMessage, res: http.ServerResponse, rel: string): Promise<void> {
  const head = req.method === 'HEAD';
  try {
    if (rel === '/clips' || rel === '/clips/') {
      const list = store ? await store.list() : [];
      const body = Buffer.from(JSON.stringify(list));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length, 'Cache-Control': 'no-cache', 'Access-Control-Allow-Origin': '*' });
      res.end(head ? undefined : body);
      return;
    }
    const name = clipNameFromRoute(rel);
    if (name === undefined) return plain(res, 400, 'bad clip name', head);
    const file = store ? await store.file(name) : undefined;
    if (!file) return plain(res, 404, 'no such clip', head);
    const range = parseRange(req.headers.range, file.bytes);
    const common: http.OutgoingHttpHeaders = {
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-cache',
      'Access-Control-Allow-Origin': '*',
      'X-Content-Type-Options': 'nosniff',
      'Content-Disposition': `inline; filename="${name}"`,
    };
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...common, 'Content-Range': `bytes */${file.bytes}`, 'Content-Length': 0 });
      res.end();
      return;
    }
    const { start, end } = range ?? { start: 0, end: file.bytes - 1 };
    const length = file.bytes === 0 ? 0 : end - start + 1;
    const headers: http.OutgoingHttpHeaders = { ...common, 'Content-Type': file.type, 'Content-Length': length };
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${file.bytes}`;
    if (head || length === 0) {
      res.writeHead(range ? 206 : 200, headers);
      res.end();
      return;
    }
    const stream = fs.createReadStream(file.path, { start, end });
    stream.once('open', () => {
      res.writeHead(range ? 206 : 200, headers);
      stream.pipe(res);
    });
    stream.once('error', () => {
      // Deleted by retention between the lookup and the read, or a disk error.
      if (!res.headersSent) plain(res, 404, 'no such clip', head);
      else res.destroy();
    });
    res.once('close', () => stream.destroy());
  } catch (err) {
    if (!res.headersSent) plain(res, 500, `clips: ${err instanceof Error ? err.message : String(err)}`, head);
    else res.destroy();
  }
}
