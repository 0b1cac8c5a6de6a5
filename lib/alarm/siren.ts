/**
 * The siren alerter's transport (docs/camera-alarm.md §6.3, fixed): run one remote command over
 * SSH with the `ssh2` library (no shell-out), key or password authentication, optional
 * host-key pinning by fingerprint (refused on mismatch — the reference turned host-key
 * checking off), and a timeout over the whole run. A non-zero exit status is an error.
 */
import { createHash } from 'node:crypto';
import { Client, ConnectConfig } from 'ssh2';
import { Clock, systemClock } from '../common/clock';

export interface SshCommandOptions {
  host: string;
  port?: number;
  username: string;
  password?: string;
  privateKey?: string | Buffer;
  passphrase?: string;
  command: string;
  /** The host key's fingerprint, "SHA256:<base64>" as `ssh-keygen -lf` prints it (or hex MD5). Empty = not checked. */
  fingerprint?: string;
  /** Whole run: connect, authenticate, execute (ms, default 30 000). */
  timeoutMs?: number;
  /** Cancels a run in progress (the node closing). */
  signal?: AbortSignal;
  /** Times the whole-run timeout (default: the real clock). */
  clock?: Clock;
}

export interface SshCommandResult {
  code: number | null;
  signal?: string;
  /** The server's host-key fingerprint, "SHA256:<base64>". */
  fingerprint: string;
}

/** "SHA256:<base64 without padding>" of a raw host key, like OpenSSH. */
export function sha256Fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** "aa:bb:…" MD5 fingerprint of a raw host key. */
export function md5Fingerprint(key: Buffer): string {
  return createHash('md5').update(key).digest('hex').replace(/(..)(?!$)/g, '$1:');
}

/** Whether a pinned fingerprint (SHA256 base64 with or without prefix/padding, or MD5 hex with or without colons) matches `key`. */
export function fingerprintMatches(pinned: string, key: Buffer): boolean {
  const p = pinned.trim();
  if (p === '') return true;
  const hex = p.replace(/^MD5:/i, '').replace(/:/g, '').toLowerCase();
  if (/^[0-9a-f]{32}$/.test(hex)) return hex === md5Fingerprint(key).replace(/:/g, '');
  const b64 = p.replace(/^SHA256:/i, '').replace(/=+$/, '');
  return b64 === sha256Fingerprint(key).slice('SHA256:'.length);
}

/**
 * A private key as pasted: newlines lost in a one-line field (or turned into spaces) are put
 * back, so "-----BEGIN … KEY-----<base64>-----END … KEY-----" parses again.
 */
export function normalizePrivateKey(key: string): string {
  const k = key.trim().replace(/\r\n/g, '\n');
  const m = /^(-----BEGIN [A-Z0-9 ]+-----)\s*([\s\S]*?)\s*(-----END [A-Z0-9 ]+-----)$/.exec(k);
  if (!m) return k;
  const lines = m[2].split('\n');
  // Keep PEM headers such as "Proc-Type: …" / "DEK-Info: …" and the blank line after them.
  const headers: string[] = [];
  while (lines.length > 0 && /^[A-Za-z-]+:/.test(lines[0])) headers.push(lines.shift() as string);
  const body = lines.join('').replace(/\s+/g, '');
  const wrapped = body.match(/.{1,64}/g) ?? [];
  return [m[1], ...headers, ...(headers.length ? [''] : []), ...wrapped, m[3]].join('\n') + '\n';
}

export class SshError extends Error {
  constructor(
    message: string,
    readonly code: 'timeout' | 'hostkey' | 'exit' | 'connect' | 'aborted',
  ) {
    super(message);
    this.name = 'SshError';
  }
}

/** Run the command once. Resolves on exit status 0; rejects with SshError otherwise. */
export function runSshCommand(opts: SshCommandOptions): Promise<SshCommandResult> {
  return new Promise((resolve, reject) => {
    const clock = opts.clock ?? systemClock;
    const conn = new Client();
    let seen = '';
    let settled = false;
    let hostKeyRefused = false;
    const finish = (err: Error | undefined, result?: SshCommandResult): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      conn.removeAllListeners('ready');
      conn.on('error', () => undefined); // late errors after the verdict are irrelevant
      conn.end();
      conn.destroy();
      if (err) reject(err);
      else resolve(result as SshCommandResult);
    };
    const onAbort = (): void => finish(new SshError('cancelled', 'aborted'));
    if (opts.signal?.aborted) return reject(new SshError('cancelled', 'aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = opts.timeoutMs ?? 30000;
    const timer = clock.setTimeout(() => finish(new SshError(`ssh ${opts.host}:${opts.port ?? 22}: timed out after ${timeoutMs / 1000} s`, 'timeout')), timeoutMs);

    const config: ConnectConfig = {
      host: opts.host,
      port: opts.port ?? 22,
      username: opts.username,
      readyTimeout: 0, // ssh2's own handshake timer runs on real time; the whole-run timer above covers the handshake
      hostVerifier: (key: Buffer): boolean => {
        seen = sha256Fingerprint(key);
        if (opts.fingerprint && !fingerprintMatches(opts.fingerprint, key)) {
          hostKeyRefused = true;
          return false;
        }
        return true;
      },
    };
    if (opts.privateKey) {
      config.privateKey = typeof opts.privateKey === 'string' ? normalizePrivateKey(opts.privateKey) : opts.privateKey;
      if (opts.passphrase) config.passphrase = opts.passphrase;
    }
    if (opts.password) config.password = opts.password;

    conn.on('ready', () => {
      conn.exec(opts.command, (err, stream) => {
        if (err) return finish(new SshError(`ssh exec failed: ${err.message}`, 'exit'));
        let code: number | null = null;
        let signal: string | undefined;
        stream.on('exit', (c: number | null, s?: string) => {
          code = c;
          signal = s;
        });
        stream.on('data', () => undefined); // discard stdout (docs/camera-alarm.md §6.3)
        stream.stderr.on('data', () => undefined);
        stream.on('close', (c?: number | null, s?: string) => {
          if (code === null && typeof c === 'number') code = c;
          if (signal === undefined && s) signal = s;
          if (code === 0) finish(undefined, { code, fingerprint: seen });
          else finish(new SshError(`remote command ${signal ? `killed by ${signal}` : `exited with status ${code}`}`, 'exit'));
        });
      });
    });
    conn.on('error', (err: Error) => {
      if (hostKeyRefused) {
        finish(new SshError(`host key of ${opts.host} (${seen}) does not match the pinned fingerprint`, 'hostkey'));
      } else {
        finish(new SshError(`ssh ${opts.host}:${opts.port ?? 22}: ${err.message}`, 'connect'));
      }
    });
    conn.on('close', () => finish(new SshError(`ssh ${opts.host}:${opts.port ?? 22}: connection closed before the command finished`, 'connect')));
    try {
      conn.connect(config);
    } catch (err) {
      finish(new SshError(`ssh: ${err instanceof Error ? err.message : String(err)}`, 'connect'));
    }
  });
}
