/**
 * The halo-poll core: polls a HALO's Event Data URL on an interval (never faster than
 * once a second), fetches thresholds at start and every 10 minutes, diffs successive
 * snapshots and turns them into messages in one of three output modes. Errors back off
 * exponentially through the package's {@link Backoff} (cap 60 s) and are reported once
 * per change of error; recovery is reported too.
 */
import { Backoff } from '../common/backoff';
import type { Clock, TimerHandle } from '../common/clock';
import { HaloHttpError, type HaloJsonSource } from './client';
import { diffSnapshots, EventStateError, makeSnapshot, normaliseEventState, normaliseThresholds, type Snapshot, type Threshold } from './eventstate';
import type { HaloOutMessage } from './input';

export type PollOutput = 'changes' | 'snapshot' | 'transitions';

export interface PollerOptions {
  source: HaloJsonSource;
  device: string;
  eventsPath: string;
  thresholdsPath?: string;
  intervalMs: number;
  output: PollOutput;
  clock: Clock;
  thresholdRefreshMs?: number;
  backoffCapMs?: number;
  /** Start polling at once (default true). */
  autoStart?: boolean;
}

export interface PollerHandlers {
  messages(out: HaloOutMessage[]): void;
  /** A poll failed; `changed` is true when this error differs from the previous one. */
  error(err: HaloHttpError, changed: boolean, retryInMs: number): void;
  /** The first good poll after errors. */
  recovered(): void;
  /** Fetching thresholds failed (polling goes on without them). */
  thresholdsError?(err: HaloHttpError): void;
  /** Any state the status shows changed. */
  state?(): void;
}

export const MIN_INTERVAL_MS = 1000;

function asHaloError(e: unknown): HaloHttpError {
  if (e instanceof HaloHttpError) return e;
  if (e instanceof EventStateError) return new HaloHttpError('json', e.message);
  return new HaloHttpError('network', e instanceof Error ? e.message : String(e));
}

export class HaloPoller {
  private readonly o: Required<Omit<PollerOptions, 'thresholdsPath'>> & { thresholdsPath: string };
  private readonly h: PollerHandlers;
  private readonly backoff: Backoff;
  private timer?: TimerHandle;
  private running = false;
  private busy = false;
  private again = false;
  private closed = false;
  private last?: Snapshot;
  private thresholds?: Map<string, Threshold>;
  private thresholdsAt = -Infinity;
  private lastErrorKey?: string;
  /** The last error, while failing. */
  error?: HaloHttpError;
  polls = 0;
  lastPollAt?: number;

  constructor(opts: PollerOptions, handlers: PollerHandlers) {
    const intervalMs = Math.max(MIN_INTERVAL_MS, opts.intervalMs);
    const cap = Math.max(opts.backoffCapMs ?? 60000, intervalMs);
    this.o = {
      ...opts,
      thresholdRefreshMs: opts.thresholdRefreshMs ?? 600000,
      backoffCapMs: cap,
      autoStart: opts.autoStart ?? true,
      thresholdsPath: opts.thresholdsPath ?? '',
      intervalMs,
    };
    this.h = handlers;
    this.backoff = new Backoff({ initialMs: intervalMs, maxMs: cap, factor: 2 });
    if (this.o.autoStart) this.start();
  }

  get isRunning(): boolean {
    return this.running;
  }

  get snapshot(): Snapshot | undefined {
    return this.last;
  }

  /** Resume interval polling (polls at once). */
  start(): void {
    if (this.closed || this.running) return;
    this.running = true;
    this.pollNow();
  }

  /** Pause interval polling. */
  stop(): void {
    this.running = false;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.h.state?.();
  }

  /** Poll as soon as the one-per-second ceiling allows; calls during a poll coalesce into one more. */
  pollNow(): void {
    if (this.closed) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    void this.poll();
  }

  private schedule(ms: number): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || !this.running) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.pollNow();
    }, ms);
  }

  private async poll(): Promise<void> {
    this.busy = true;
    let delay = this.o.intervalMs;
    try {
      const now = this.o.clock.now();
      if (this.o.thresholdsPath !== '' && now - this.thresholdsAt >= this.o.thresholdRefreshMs) {
        this.thresholdsAt = now;
        try {
          this.thresholds = normaliseThresholds(await this.o.source.getJson(this.o.thresholdsPath));
        } catch (e) {
          const err = asHaloError(e);
          if (err.code === 'closed') throw err;
          // Thresholds are extra: without them polling still works. Retry at the next poll if
          // the HALO itself is unreachable, else at the next refresh.
          if (err.code === 'refused' || err.code === 'timeout' || err.code === 'network') this.thresholdsAt = -Infinity;
          if (err.code === 'refused' || err.code === 'timeout' || err.code === 'network' || err.code === 'auth') throw err;
          this.h.thresholdsError?.(err);
        }
      }
      const json = await this.o.source.getJson(this.o.eventsPath);
      if (this.closed) return;
      const polledAt = this.o.clock.now();
      const snap = makeSnapshot(this.o.device, polledAt, normaliseEventState(json), this.thresholds);
      const prev = this.last;
      this.last = snap;
      this.polls++;
      this.lastPollAt = polledAt;
      if (this.error) {
        this.error = undefined;
        this.lastErrorKey = undefined;
        this.h.recovered();
      }
      this.backoff.reset();
      const out = this.messages(prev, snap);
      if (out.length > 0) this.h.messages(out);
      this.h.state?.();
    } catch (e) {
      if (this.closed) return;
      const err = asHaloError(e);
      if (err.code === 'closed') return;
      this.error = err;
      const changed = err.key !== this.lastErrorKey;
      this.lastErrorKey = err.key;
      delay = this.backoff.next();
      this.h.error(err, changed, delay);
      this.h.state?.();
    } finally {
      this.busy = false;
      if (!this.closed) {
        if (this.again) {
          this.again = false;
          this.pollNow();
        } else this.schedule(delay);
      }
    }
  }

  private messages(prev: Snapshot | undefined, snap: Snapshot): HaloOutMessage[] {
    const device = snap.device;
    if (this.o.output === 'snapshot') return [{ topic: `${device}/snapshot`, payload: { ...snap } }];
    const changes = diffSnapshots(prev, snap);
    const out: HaloOutMessage[] = [];
    for (const c of changes) {
      const n = c.next;
      if (this.o.output === 'transitions') {
        if (!c.transition) continue;
        const payload: Record<string, unknown> = { device, event: c.event, active: n.active, kind: c.transition };
        if (n.value !== null) payload.value = n.value;
        if (n.threshold !== undefined) payload.threshold = n.threshold;
        if (n.operator !== undefined) payload.operator = n.operator;
        if (n.source !== undefined) payload.source = n.source;
        payload.raw = n.raw;
        payload.receivedAt = snap.polledAt;
        payload.remote = this.o.source.label;
        payload.tokens = {};
        out.push({ topic: `${device}/${c.event}`, payload });
      } else {
        const payload: Record<string, unknown> = { device, event: c.event, ...n };
        payload.previous = c.previous ? { value: c.previous.value, active: c.previous.active } : null;
        if (c.transition) payload.kind = c.transition;
        payload.polledAt = snap.polledAt;
        out.push({ topic: `${device}/${c.event}`, payload });
      }
    }
    return out;
  }

  close(): void {
    this.closed = true;
    this.running = false;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
