/**
 * One HTTP(S) GET with camera credentials: no Authorization on the first try (unless a
 * Digest session is already primed), then Digest or Basic as the 401 asks (using the
 * package's digest client, lib/common/digest.ts). The caller gets the response stream.
 */
import http from 'node:http';
import https from 'node:https';
import { DigestSession, basicAuthorization, parseChallenges } from '../common/digest';

export interface CameraAuth {
  username?: string;
  password?: string;
}

export interface GetOptions extends CameraAuth {
  /** Shared across requests so Digest needs one round trip after the first. */
  digest?: DigestSession;
  /** Remembered scheme after a Basic challenge (so later requests skip the 401). */
  state?: { basic?: boolean };
  /** No response headers within this time → error (default 10 s). */
  timeoutMs?: number;
  /** Accept self-signed certificates (cameras often have them). Default true. */
  insecure?: boolean;
}

export interface GetHandle {
  abort(): void;
}

/** GET `url`; `onResponse` gets a 2xx response, `onError` anything else (once). */
export function httpGet(url: string, opts: GetOptions, onResponse: (res: http.IncomingMessage) => void, onError: (err: Error) => void): GetHandle {
  let current: http.ClientRequest | undefined;
  let aborted = false;
  let finished = false;
  const fail = (err: Error): void => {
    if (finished || aborted) return;
    finished = true;
    onError(err);
  };
  let u: URL;
  try {
    u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported protocol ${u.protocol} (http or https)`);
  } catch (err) {
    queueMicrotask(() => fail(err instanceof Error ? err : new Error(String(err))));
    return { abort: () => (aborted = true) };
  }
  // Credentials in the URL are used like the settings' ones.
  const username = opts.username || decodeURIComponent(u.username);
  const password = opts.password || decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const pathQuery = u.pathname + u.search;
  const digest = opts.digest ?? (username ? new DigestSession(username, password) : undefined);
  const state = opts.state ?? {};

  const attempt = (tries: number): void => {
    const headers: Record<string, string> = { 'User-Agent': 'vigil-camera', Accept: 'multipart/x-mixed-replace, image/jpeg, */*' };
    if (username && digest?.ready) headers.Authorization = digest.authorization('GET', pathQuery);
    else if (username && state.basic) headers.Authorization = basicAuthorization(username, password);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, { method: 'GET', headers, rejectUnauthorized: opts.insecure === false });
    current = req;
    req.setTimeout(opts.timeoutMs ?? 10000, () => req.destroy(new Error(`no response from ${u.host} within ${(opts.timeoutMs ?? 10000) / 1000} s`)));
    req.on('error', (err) => fail(err));
    req.on('response', (res) => {
      if (aborted) {
        res.destroy();
        return;
      }
      const status = res.statusCode ?? 0;
      if (status === 401 && username && tries < 2) {
        const challenges = res.headers['www-authenticate'];
        res.resume();
        if (digest && digest.accept(challenges)) {
          state.basic = false;
          attempt(tries + 1);
          return;
        }
        if (parseChallenges(challenges).some((c) => c.scheme === 'basic')) {
          state.basic = true;
          digest?.forget();
          attempt(tries + 1);
          return;
        }
      }
      if (status < 200 || status >= 300) {
        res.resume();
        fail(new Error(status === 401 || status === 403 ? `HTTP ${status}: check the camera's username and password` : `HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      // From here the response is the caller's; socket inactivity is the watchdog's business.
      req.setTimeout(0);
      finished = true;
      onResponse(res);
    });
    req.end();
  };
  attempt(0);
  return {
    abort: () => {
      aborted = true;
      current?.destroy();
    },
  };
}
