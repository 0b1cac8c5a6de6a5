/**
 * The service's bounded outbound queue (see docs/isotel.md §5, §6): what could not be written at
 * once — the link is down, or the socket is congested — waits here, in order.
 *
 * Two kinds of items: those bound to one connection (a reply, a CONNECT, tagged with that
 * connection's epoch) are worthless on any other connection and are discarded with it; the
 * rest (NOTIFYs) survive reconnects. On overflow the oldest NOTIFY goes — never a reply:
 * replies are matched to requests by order only, so one lost reply would answer every later
 * request with the wrong reply. A queue full of connection-bound items alone is an
 * `overflow` the caller answers by resetting the link.
 */
import type net from 'node:net';

export interface Outbound {
  text: string;
  /** The connection the item belongs to; undefined for an item that survives reconnects (a NOTIFY). */
  epoch?: number;
}

/** What {@link OutboundQueue.push} did. */
export type PushResult =
  | { kind: 'queued' }
  /** The oldest NOTIFY was dropped to make room (`self`: it was the one just pushed). */
  | { kind: 'evicted'; self: boolean }
  /** Full of connection-bound items: the queue was emptied, the caller must reset the link. */
  | { kind: 'overflow'; waiting: number };

export class OutboundQueue {
  private items: Outbound[] = [];

  constructor(readonly limit: number) {}

  get length(): number {
    return this.items.length;
  }

  push(item: Outbound): PushResult {
    this.items.push(item);
    if (this.items.length <= this.limit) return { kind: 'queued' };
    const i = this.items.findIndex((q) => q.epoch === undefined);
    if (i >= 0) {
      this.items.splice(i, 1);
      return { kind: 'evicted', self: i === this.items.length };
    }
    const waiting = this.items.length;
    this.items = [];
    return { kind: 'overflow', waiting };
  }

  /** Write what waits to `sock` while it takes more, skipping items bound to another connection than `epoch`. */
  flush(sock: net.Socket, epoch: number): void {
    while (this.items.length > 0 && !sock.destroyed && !sock.writableNeedDrain) {
      const item = this.items.shift() as Outbound;
      if (item.epoch !== undefined && item.epoch !== epoch) continue;
      sock.write(item.text);
    }
  }

  /** A new connection: items bound to an older one are worthless now. */
  forgetConnections(): void {
    this.items = this.items.filter((q) => q.epoch === undefined);
  }

  /**
   * The link is about to close on purpose: write everything owed to connection `epoch` now
   * (replies must precede the farewell), keep the NOTIFYs for the next connection.
   */
  flushConnection(sock: net.Socket, epoch: number): void {
    const keep: Outbound[] = [];
    for (const q of this.items) {
      if (q.epoch === undefined) keep.push(q);
      else if (q.epoch === epoch) sock.write(q.text);
    }
    this.items = keep;
  }
}
