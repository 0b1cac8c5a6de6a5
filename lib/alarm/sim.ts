/**
 * Stand-ins for the alerters' far ends, for demos and tests (loopback):
 * - TelegramSim: a tiny Bot API (`/bot<token>/sendMessage`, `/bot<token>/sendPhoto`,
 *   `/bot<token>/sendVideo`, `/bot<token>/getMe`) that logs what it gets and answers like Telegram.
 * - SirenSim: an SSH server (ssh2) with a host key generated at start; it accepts one
 *   user/password and "runs" each exec'd command by logging it (exit status 0).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, utils } from 'ssh2';
import { sha256Fingerprint } from './siren';

export interface SimEvent {
  at: number;
  kind: string;
  detail: Record<string, unknown>;
}

export interface TelegramSimOptions {
  host?: string;
  port?: number;
  /** Only this token is accepted (default: any token). */
  token?: string;
  /** Answer HTTP 500 to the first N sends (to show retries). */
  failFirst?: number;
  log?: (line: string) => void;
}

/** Pull one text field out of a multipart/form-data body (enough for chat_id / caption). */
function formField(body: Buffer, boundary: string, name: string): string | undefined {
  const text = body.toString('latin1');
  for (const part of text.split(`--${boundary}`)) {
    const m = /^\r\nContent-Disposition: form-data; name="([^"]+)"(?:; filename="[^"]*")?\r\n(?:[^\r\n]+\r\n)*\r\n/i.exec(part);
    if (m && m[1] === name) return Buffer.from(part.slice(m[0].length).replace(/\r\n$/, ''), 'latin1').toString('utf8');
  }
  return undefined;
}

export class TelegramSim {
  readonly events: SimEvent[] = [];
  private server?: http.Server;
  private failLeft: number;
  private nextId = 1;

  constructor(private readonly opts: TelegramSimOptions = {}) {
    this.failLeft = opts.failFirst ?? 0;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  start(): Promise<number> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    return new Promise((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve(this.port));
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private reply(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 20 * 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? '').split('?')[0]);
      if (!m) return this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      const [, token, method] = m;
      if (this.opts.token && token !== this.opts.token) return this.reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      const body = Buffer.concat(chunks);
      const type = String(req.headers['content-type'] ?? '');
      let fields: Record<string, unknown> = {};
      if (type.includes('application/json')) {
        try {
          fields = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          return this.reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: invalid JSON' });
        }
      } else if (type.includes('multipart/form-data')) {
        const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
        const b = boundary ? (boundary[1] ?? boundary[2]) : '';
        fields = { chat_id: formField(body, b, 'chat_id'), caption: formField(body, b, 'caption'), [method === 'sendVideo' ? 'video_bytes' : 'photo_bytes']: size };
      }
      if (method === 'getMe') return this.reply(res, 200, { ok: true, result: { id: 1, is_bot: true, first_name: 'Vigil demo bot', username: 'vigil_demo_bot' } });
      if (method !== 'sendMessage' && method !== 'sendPhoto' && method !== 'sendVideo') return this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
      if (fields.chat_id === undefined || fields.chat_id === '') return this.reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat_id is empty' });
      if (this.failLeft > 0) {
        this.failLeft--;
        this.log(method, { ...fields, answered: 500 });
        return this.reply(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error (simulated)' });
      }
      this.log(method, fields);
      const text = method === 'sendMessage' ? fields.text : fields.caption;
      this.reply(res, 200, { ok: true, result: { message_id: this.nextId++, date: Math.floor(Date.now() / 1000), chat: { id: fields.chat_id }, text } });
    });
  }

  private log(kind: string, detail: Record<string, unknown>): void {
    this.events.push({ at: Date.now(), kind, detail });
    if (this.events.length > 1000) this.events.shift();
    const show = { ...detail };
    this.opts.log?.(`${kind} ${JSON.stringify(show)}`);
  }
}

/**
 * A fresh ed25519 key pair (OpenSSH format) that ssh2 can parse back, with the public key's
 * SHA256 fingerprint. ssh2 1.17's `utils.generateKeyPairSync('ed25519')` strips leading zero
 * bytes from the public key, so about 1 key in 256 is malformed (mscdex/ssh2#1390, #1513) and
 * a server using it fails to start; such a key is drawn again.
 */
export function ed25519KeyPair(): { private: string; public: string; fingerprint: string } {
  for (let i = 0; ; i++) {
    const key = utils.generateKeyPairSync('ed25519');
    const pub = utils.parseKey(key.public);
    const priv = utils.parseKey(key.private);
    if (!(pub instanceof Error) && !(priv instanceof Error)) return { private: key.private, public: key.public, fingerprint: sha256Fingerprint(pub.getPublicSSH()) };
    if (i >= 20) throw pub instanceof Error ? pub : priv;
  }
}

export interface SirenSimOptions {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  log?: (line: string) => void;
}

export class SirenSim {
  readonly events: SimEvent[] = [];
  readonly fingerprint: string;
  private readonly server: Server;
  private readonly clients = new Set<{ end(): void }>();

  constructor(private readonly opts: SirenSimOptions = {}) {
    const key = ed25519KeyPair();
    this.fingerprint = key.fingerprint;
    const user = opts.username ?? 'siren';
    const pass = opts.password ?? 'siren';
    this.server = new Server({ hostKeys: [key.private] }, (client) => {
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        if (ctx.method === 'password' && ctx.username === user && ctx.password === pass) return ctx.accept();
        if (ctx.method !== 'none') this.log('auth-refused', { user: ctx.username, method: ctx.method });
        ctx.reject(['password']);
      });
      client.on('session', (accept) => {
        accept().on('exec', (acc, _rej, info) => {
          this.log('exec', { user, command: info.command });
          const stream = acc();
          stream.write(`siren-sim: would run "${info.command}"\n`);
          stream.exit(0);
          stream.end();
        });
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve(this.port));
    });
  }

  stop(): Promise<void> {
    for (const c of this.clients) c.end();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private log(kind: string, detail: Record<string, unknown>): void {
    this.events.push({ at: Date.now(), kind, detail });
    if (this.events.length > 1000) this.events.shift();
    this.opts.log?.(`${kind} ${JSON.stringify(detail)}`);
  }
}
