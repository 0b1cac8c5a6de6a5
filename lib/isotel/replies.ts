/**
 * Ordered replies (see docs/isotel.md §3): requests relayed from the IoT's HTTP API carry no
 * id, so the IoT matches answers to requests by order alone. Each request gets a reference
 * (connection epoch + sequence number); answers given out of order wait for the ones before
 * them; a request left unanswered past the timeout is answered `HREPLY 504`.
 *
 * Epochs are unique in the process — one counter shared by every instance, started at a
 * random point — so a client that replaces another (a "modified nodes" deploy) never hands
 * out a reference the old one used: a reply held in the flow across the deploy is `stale`,
 * it cannot answer the new connection's request with the same number.
 */
import { randomInt } from 'node:crypto';
import type { Clock, TimerHandle } from '../common/clock';
import type { Body } from './codec';

export interface IsotelRequest {
  /** Sequence number on this connection (1, 2, …). */
  id: number;
  /** Which connection the request came on: unique in the process (replies to another one are refused as stale). */
  epoch: number;
  body: Body;
  /** `body.action` when the body is an object with a string `action`. */
  action?: string;
  receivedAt: number;
}

export interface RequestRef {
  id: number;
  epoch: number;
}

/** What became of an answer. */
export type AnswerResult = 'accepted' | 'late' | 'duplicate' | 'stale' | 'unknown';

export interface Pending {
  req: IsotelRequest;
  answer?: string;
  timer?: TimerHandle;
}

let lastEpoch = randomInt(1, 2 ** 30);

/** A connection epoch never handed out before in this process. */
export function nextEpoch(): number {
  lastEpoch = lastEpoch >= Number.MAX_SAFE_INTEGER ? 1 : lastEpoch + 1;
  return lastEpoch;
}

export interface OrderedRepliesOptions {
  clock: Clock;
  timeoutMs: number;
  /** Write an answer whose turn has come, for the connection `epoch`. */
  send(text: string, epoch: number): void;
  /** A request timed out; return the answer text to send for it (`HREPLY 504`). */
  onTimeout(req: IsotelRequest): string;
}

export class OrderedReplies {
  private epoch = 0;
  private nextId = 1;
  private fifo: Pending[] = [];
  private awaiting = 0;
  /** Answers written so far (all connections). */
  written = 0;

  constructor(private readonly opts: OrderedRepliesOptions) {}

  /** The current connection's epoch (0 before the first). */
  get currentEpoch(): number {
    return this.epoch;
  }

  /** Requests waiting for an answer (or for an earlier one). */
  get pending(): number {
    return this.fifo.length;
  }

  /** Requests handed out with {@link expire} and not answered yet (those the flow owes). */
  get unanswered(): number {
    return this.awaiting;
  }

  /** A new connection: a fresh epoch, numbering from 1. */
  open(): void {
    this.clear();
    this.epoch = nextEpoch();
    this.nextId = 1;
  }

  /** The connection is gone: forget every request (their answers would be worthless). */
  clear(): void {
    for (const p of this.fifo) this.opts.clock.clearTimeout(p.timer);
    this.fifo = [];
    this.awaiting = 0;
  }

  /** Take a request in; it waits for {@link answer} (after {@link expire}) or is settled by the caller. */
  add(body: Body, action: string | undefined): Pending {
    const req: IsotelRequest = { id: this.nextId++, epoch: this.epoch, body, action, receivedAt: this.opts.clock.now() };
    const entry: Pending = { req };
    this.fifo.push(entry);
    return entry;
  }

  /** Answer `entry` with the `HREPLY 504` of `onTimeout` unless something answers it first. */
  expire(entry: Pending): void {
    this.awaiting++;
    entry.timer = this.opts.clock.setTimeout(() => {
      if (entry.answer === undefined) this.settle(entry, this.opts.onTimeout(entry.req));
    }, this.opts.timeoutMs);
  }

  /** Look up the request `ref` names on the current connection: the entry, or why not. */
  find(ref: RequestRef, connected: boolean): Pending | Exclude<AnswerResult, 'accepted'> {
    if (ref.epoch !== this.epoch || !connected) return 'stale';
    const entry = this.fifo.find((p) => p.req.id === ref.id);
    if (!entry) return ref.id < this.nextId ? 'late' : 'unknown';
    if (entry.answer !== undefined) return 'duplicate';
    return entry;
  }

  /** Give `entry` its answer; every answer whose turn has come goes out, in order. */
  settle(entry: Pending, text: string): void {
    entry.answer = text;
    if (entry.timer !== undefined) {
      this.awaiting--;
      this.opts.clock.clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    while (this.fifo.length > 0 && this.fifo[0].answer !== undefined) {
      const head = this.fifo.shift() as Pending;
      this.written++;
      this.opts.send(head.answer as string, head.req.epoch);
    }
  }

  /** Answer every request still waiting with `text` (in order, so the IoT's clients are released). */
  settleAll(text: string): void {
    for (const p of [...this.fifo]) if (p.answer === undefined) this.settle(p, text);
  }
}
