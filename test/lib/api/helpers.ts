/**
 * Shared pieces of the API tests: a real `ws` client that records what it gets, and a
 * small fake alarm (status + silence/test handler) and members on a real SystemHub.
 */
import type net from 'node:net';
import { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../../../lib/common/clock';
import type { SystemHub } from '../../../lib/system/hub';
import type { AlarmStatus, CommandName, CommandReply, ConfigError, ConfigSection, SectionMember } from '../../../lib/system/types';

export interface Received {
  text: unknown[];
  binary: Buffer[];
}

export class Client {
  readonly ws: WebSocket;
  readonly got: Received = { text: [], binary: [] };
  closeCode?: number;
  private waiters: Array<() => void> = [];

  constructor(url: string, headers?: Record<string, string>) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) this.got.binary.push(buf);
      else this.got.text.push(JSON.parse(buf.toString('utf8')));
      this.poke();
    });
    this.ws.on('close', (code) => {
      this.closeCode = code;
      this.poke();
    });
    this.ws.on('error', () => this.poke());
  }

  private poke(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  open(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  /** Resolve when predicate holds (re-checked on every message/close); no wall-clock limit beyond mocha's. */
  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (pred()) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** The next text message after the ones seen so far that matches `pred`. */
  async next(pred: (m: unknown) => boolean = () => true, from = this.got.text.length): Promise<unknown> {
    let found: unknown;
    await this.until(() => {
      for (let i = from; i < this.got.text.length; i++) {
        if (pred(this.got.text[i])) {
          found = this.got.text[i];
          return true;
        }
      }
      return false;
    });
    return found;
  }

  /** Send a command and wait for its reply (a message with `status` or `error`). */
  async ask(body: unknown): Promise<Record<string, unknown>> {
    const from = this.got.text.length;
    this.ws.send(typeof body === 'string' ? body : JSON.stringify(body));
    return (await this.next(isReply, from)) as Record<string, unknown>;
  }

  /**
   * A ping's round trip: resolves on the pong, when every frame the server wrote before it
   * read the ping has arrived (frames on one socket keep their order) — a barrier for
   * "the server sent nothing", with no sleep.
   */
  roundTrip(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.once('pong', () => resolve());
      this.ws.ping();
    });
  }

  pause(): void {
    (this.ws as unknown as { _socket: net.Socket })._socket.pause();
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.terminate();
    });
  }
}

export function isReply(m: unknown): boolean {
  return typeof m === 'object' && m !== null && ('status' in m || 'error' in m) && !('state' in m);
}

export function isStatus(m: unknown): m is AlarmStatus {
  return typeof m === 'object' && m !== null && 'state' in m && 'timeStamp' in m;
}

/** A minimal alarm: the four states' silence/unsilence and test alerts, status every second and on change. */
export class FakeAlarm {
  state: AlarmStatus['state'] = 'on';
  initialAlarm = 0;
  silencedTill: number | null = null;
  readonly tests: Array<{ excluded: string[] }> = [];
  readonly commands: Array<{ name: CommandName; data: Record<string, unknown> }> = [];
  private timer?: TimerHandle;
  private unsilence?: TimerHandle;

  constructor(
    private readonly hub: SystemHub,
    private readonly clock: Clock,
  ) {
    hub.setCommandHandler((name, data) => this.handle(name, data));
    this.timer = clock.setInterval(() => this.publish(), 1000);
  }

  private handle(name: CommandName, data: Record<string, unknown>): CommandReply {
    this.commands.push({ name, data });
    if (name === 'silence') {
      if (this.state === 'off') return { error: "Current state is State.OFF. silence allows transitions from [<State.ALARM: 'alarm'>, <State.ON: 'on'>, <State.SILENCED: 'silenced'>]." };
      const secs = Number(data.silenceFor);
      this.state = 'silenced';
      this.silencedTill = this.clock.now() / 1000 + secs;
      this.clock.clearTimeout(this.unsilence);
      this.unsilence = this.clock.setTimeout(() => {
        this.state = 'on';
        this.silencedTill = null;
        this.publish();
      }, secs * 1000);
      this.publish();
      return { status: 'OK' };
    }
    if (name === 'test') {
      this.tests.push({ excluded: (data.excluded as string[]) ?? [] });
      return { status: 'OK' };
    }
    if (name === 'off') {
      this.state = 'off';
      this.publish();
      return { status: 'OK' };
    }
    return { error: `unsupported ${name}` };
  }

  publish(): void {
    this.hub.publishStatus({ timeStamp: this.clock.now() / 1000, state: this.state, initialAlarm: this.initialAlarm, silencedTill: this.silencedTill });
  }

  stop(): void {
    this.clock.clearInterval(this.timer);
    this.clock.clearTimeout(this.unsilence);
    this.hub.setCommandHandler(undefined);
  }
}

/** A member holding a plain section, with simple type validation (numbers stay numbers). */
export function plainMember(section: string, initial: ConfigSection, secretKeys: string[] = []): SectionMember & { value: ConfigSection } {
  const m = {
    section,
    value: { ...initial },
    secretKeys,
    get(): ConfigSection {
      return { ...m.value };
    },
    validate(p: ConfigSection): ConfigError[] {
      const errors: ConfigError[] = [];
      for (const [k, v] of Object.entries(initial)) {
        if (!(k in p)) errors.push({ loc: [...section.split('.'), k], msg: 'field required', type: 'value_error.missing' });
        else if (typeof v === 'number' && typeof p[k] !== 'number') errors.push({ loc: [...section.split('.'), k], msg: 'value is not a valid integer', type: 'type_error.integer' });
      }
      return errors;
    },
    apply(p: ConfigSection): void {
      m.value = { ...p };
    },
  };
  return m;
}

/** A tiny valid JPEG-shaped buffer (SOI … EOI) of `size` bytes. */
export function fakeJpeg(size = 64, fill = 0x11): Buffer {
  const b = Buffer.alloc(Math.max(4, size), fill);
  b[0] = 0xff;
  b[1] = 0xd8;
  b[b.length - 2] = 0xff;
  b[b.length - 1] = 0xd9;
  return b;
}
