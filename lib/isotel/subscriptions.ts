/**
 * Subscriptions merged across owners (see docs/isotel.md §4): the IoT keeps one set of CONNECT
 * options per parameter, so several owners (isotel-signal nodes) of one URI share one
 * subscription with their options merged ({@link mergeConnectOptions}). SIGNALs and CONNECT
 * acknowledgements are dispatched here to the owners of their URI — the one registry of who
 * wants what — each owner's handler guarded so that one that throws does not starve the rest.
 */
import { encode, normalizeUri, type Body, type ConnectOptions } from './codec';

/** Who subscribes: an id (one subscription per owner and URI) and, optionally, handlers. */
export interface SubscriptionOwner {
  readonly id: string;
  /** A SIGNAL for one of this owner's URIs. */
  onSignal?(uri: string, data: Body): void;
  /** A CONNECT acknowledgement (or a DISCONNECT from the IoT) for one of this owner's URIs. */
  onSubscription?(uri: string, ok: boolean, body: Body): void;
}

export type SubscriptionStatus = 'pending' | 'ok' | 'error';

export interface Subscription {
  uri: string;
  /** What the IoT was (or will be) sent: the owners' options merged. */
  options?: ConnectOptions;
  /** Each owner with the options it asked for. */
  owners: Map<string, { owner: SubscriptionOwner; options?: ConnectOptions }>;
  /** The owners that take SIGNALs (kept with `owners`: the hot path walks a plain array). */
  listeners: SubscriptionOwner[];
  status: SubscriptionStatus;
}

function withListeners(s: Subscription): void {
  s.listeners = [...s.owners.values()].map((o) => o.owner).filter((o) => o.onSignal !== undefined);
}

/** The effect of CONNECT options: ms between SIGNALs (0 = every update) and whether they carry data. */
function effect(o: ConnectOptions | undefined): { debounce: number; data: boolean } {
  const d = o?.debounce_time;
  return { debounce: typeof d === 'number' && d > 0 ? d : 0, data: o?.send_data !== false };
}

function sameEffect(a: ConnectOptions | undefined, b: ConnectOptions | undefined): boolean {
  const x = effect(a);
  const y = effect(b);
  return x.debounce === y.debounce && x.data === y.data;
}

/**
 * One CONNECT for several subscribers of a URI. Subscribers that agree get their options as
 * they are; otherwise every one of them gets at least what it asked for — the smallest
 * debounce (none if any wants every update) and data if any wants data.
 */
export function mergeConnectOptions(list: Iterable<ConnectOptions | undefined>): ConnectOptions | undefined {
  const all = [...list];
  if (all.length === 0) return undefined;
  if (all.every((o) => JSON.stringify(o ?? {}) === JSON.stringify(all[0] ?? {}))) return all[0];
  const effects = all.map(effect);
  return { debounce_time: Math.min(...effects.map((e) => e.debounce)), send_data: effects.some((e) => e.data) };
}

export interface SubscriptionsOptions {
  /** Send a CONNECT/DISCONNECT now when the link is up (dropped otherwise: {@link Subscriptions.greeting} re-sends). */
  send(text: string): void;
  /** The set of subscribed URIs changed. */
  changed(): void;
  warn(message: string, kind: 'options' | 'handler'): void;
}

export class Subscriptions {
  private readonly subs = new Map<string, Subscription>();
  /** The subscriptions by URI, read-only (the SIGNAL hot path looks a URI up here directly). */
  readonly byUri: ReadonlyMap<string, Readonly<Subscription>> = this.subs;

  constructor(private readonly opts: SubscriptionsOptions) {}

  get size(): number {
    return this.subs.size;
  }

  uris(): string[] {
    return [...this.subs.keys()];
  }

  has(uri: string): boolean {
    return this.subs.has(uri);
  }

  statuses(): Map<string, SubscriptionStatus> {
    return new Map([...this.subs].map(([uri, s]) => [uri, s.status]));
  }

  /** Subscribe `owner` to `uri`; a change of the merged options is sent as a new CONNECT. */
  add(uri: string, options: ConnectOptions | undefined, owner: SubscriptionOwner): void {
    const u = normalizeUri(uri);
    const existing = this.subs.get(u);
    if (!existing) {
      const s: Subscription = { uri: u, options, owners: new Map([[owner.id, { owner, options }]]), listeners: [], status: 'pending' };
      withListeners(s);
      this.subs.set(u, s);
      this.opts.send(encode.connect(u, options));
      this.opts.changed();
      return;
    }
    existing.owners.set(owner.id, { owner, options });
    withListeners(existing);
    const wanted = new Set([...existing.owners.values()].map((o) => JSON.stringify(effect(o.options))));
    if (this.remerge(existing) && wanted.size > 1) {
      this.opts.warn(
        `CONNECT ${u}: its subscribers ask for different options; the IoT keeps one set per parameter, sent ${JSON.stringify(existing.options)} (the smallest debounce, data if any wants it)`,
        'options',
      );
    }
  }

  /** Drop `ownerId` from `uri`: DISCONNECT when it was the last, else the rest's merged options. */
  remove(uri: string, ownerId: string): void {
    const u = normalizeUri(uri);
    const s = this.subs.get(u);
    if (!s || !s.owners.delete(ownerId)) return;
    withListeners(s);
    if (s.owners.size > 0) {
      this.remerge(s);
      return;
    }
    this.subs.delete(u);
    this.opts.send(encode.disconnect(u));
    this.opts.changed();
  }

  /** Drop `ownerId` from every URI (an owner that goes away). */
  removeOwner(ownerId: string): void {
    for (const [uri, s] of [...this.subs]) if (s.owners.has(ownerId)) this.remove(uri, ownerId);
  }

  /** Recompute a subscription's merged options; CONNECT again when their effect changed. */
  private remerge(s: Subscription): boolean {
    const merged = mergeConnectOptions([...s.owners.values()].map((o) => o.options));
    const changed = !sameEffect(s.options, merged);
    s.options = merged;
    // The IoT holds the options sent before: say "every update, with data" explicitly
    // rather than with a bare CONNECT that might leave them in place.
    if (changed) this.opts.send(encode.connect(s.uri, merged ?? { debounce_time: 0, send_data: true }));
    return changed;
  }

  /** A new connection: every subscription is pending again; the CONNECT lines to send. */
  greeting(): string[] {
    const lines: string[] = [];
    for (const [uri, s] of this.subs) {
      s.status = 'pending';
      lines.push(encode.connect(uri, s.options));
    }
    return lines;
  }

  /** A farewell: DISCONNECT per parameter. */
  farewell(): string[] {
    return this.uris().map((uri) => encode.disconnect(uri));
  }

  /** Dispatch a SIGNAL's data to the owners of subscription `s` (the hot path: no closure per owner). */
  signal(s: Readonly<Subscription>, data: Body): void {
    const list = s.listeners;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i].onSignal?.(s.uri, data);
      } catch (err) {
        this.failed(err);
      }
    }
  }

  /** A CONNECT acknowledgement or a DISCONNECT from the IoT; false when `uri` is not subscribed. */
  acknowledge(uri: string, ok: boolean, body: Body): boolean {
    const s = this.subs.get(uri);
    if (!s) return false;
    s.status = ok ? 'ok' : 'error';
    for (const { owner } of s.owners.values()) {
      if (!owner.onSubscription) continue;
      try {
        owner.onSubscription(s.uri, ok, body);
      } catch (err) {
        this.failed(err);
      }
    }
    return true;
  }

  private failed(err: unknown): void {
    this.opts.warn(`a subscriber failed to handle a message: ${err instanceof Error ? err.message : String(err)}`, 'handler');
  }
}
