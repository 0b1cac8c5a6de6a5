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
import {
  diffSnapshots,
  EventStateError,
  makeSnapshot,
  normaliseEventState,
  normaliseThresholds,
  type EventStateEntry,
  type Snapshot,
  type Threshold,
} from './eventstate';
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
  /**
   * Reading the thresholds failed while event_state could be read (401/403, another HTTP
   * status, bad JSON): polling goes on without them. Once per distinct reason.
   */
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
  /** The thresholds failure last warned about (cleared when they are read again). */
  private thresholdsErrorKey?: string;
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
    /** The thresholds request failed this poll for a reason of its own (not an unreachable HALO). */
    let thresholdsFailure: HaloHttpError | undefined;
    try {
      const now = this.o.clock.now();
      if (this.o.thresholdsPath !== '' && now - this.thresholdsAt >= this.o.thresholdRefreshMs) {
        this.thresholdsAt = now;
        try {
          this.thresholds = normaliseThresholds(await this.o.source.getJson(this.o.thresholdsPath));
          this.thresholdsErrorKey = undefined;
        } catch (e) {
          const err = asHaloError(e);
          if (err.code === 'closed') throw err;
          // The HALO itself unreachable: the events request would fail the same way, so this
          // is the poll's failure (backed off as usual); thresholds are tried again next poll.
          if (err.code === 'refused' || err.code === 'timeout' || err.code === 'network') {
            this.thresholdsAt = -Infinity;
            throw err;
          }
          // 401/403 (a user allowed to read event_state but not the thresholds), another
          // HTTP status, bad JSON: thresholds are extra, poll without them until the next refresh.
          thresholdsFailure = err;
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
      // Warned once per distinct reason, not at every refresh that fails the same way.
      if (thresholdsFailure && thresholdsFailure.key !== this.thresholdsErrorKey) {
        this.thresholdsErrorKey = thresholdsFailure.key;
        this.h.thresholdsError?.(thresholdsFailure);
      }
      const out = this.messages(prev, snap, json);
      if (out.length > 0) this.h.messages(out);
      this.h.state?.();
    } catch (e) {
      if (this.closed) return;
      const err = asHaloError(e);
      if (err.code === 'closed') return;
      // The events request failed too: the thresholds failure was not their own (e.g. a
      // wrong password for both). No separate warning; try them again at the next poll.
      if (thresholdsFailure) this.thresholdsAt = -Infinity;
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

  private messages(prev: Snapshot | undefined, snap: Snapshot, json: unknown): HaloOutMessage[] {
    const device = snap.device;
    if (this.o.output === 'snapshot') return [{ topic: `${device}/snapshot`, payload: { ...snap } }];
    const changes = diffSnapshots(prev, snap);
    const out: HaloOutMessage[] = [];
    for (const c of changes) {
      const n = c.next;
      if (this.o.output === 'transitions') {
        if (!c.transition) continue;
        out.push(this.transition(device, c.event, c.transition, n, snap.polledAt, json));
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

  /**
   * A set/reset edge shaped like halo-in output 1: the same payload fields (no device
   * time, MAC, IP or simulated flag: the Event Data URL has none), `tokens` holding what the
   * HALO's %EID% %VAL% %THR% %OPERATOR% %SOURCE% would carry, and `raw` the event's own
   * entry of the event_state response as JSON text.
   */
  private transition(device: string, event: string, kind: 'set' | 'reset', n: EventStateEntry, polledAt: number, json: unknown): HaloOutMessage {
    const payload: Record<string, unknown> = { device, event, active: n.active, kind };
    const tokens: Record<string, string> = { EID: event };
    if (n.value !== null) {
      payload.value = n.value;
      tokens.VAL = String(n.value);
    }
    if (n.threshold !== undefined) {
      payload.threshold = n.threshold;
      tokens.THR = String(n.threshold);
    }
    if (n.operator !== undefined) tokens.OPERATOR = n.operator;
    if (n.source !== undefined) {
      payload.source = n.source;
      tokens.SOURCE = n.source;
    }
    payload.receivedAt = polledAt;
    payload.remote = this.o.source.label;
    payload.tokens = tokens;
    const entry = json && typeof json === 'object' ? (json as Record<string, unknown>)[event] : undefined;
    return { topic: `${device}/${event}`, payload, raw: JSON.stringify({ [event]: entry ?? null }) };
  }

  close(): void {
    this.closed = true;
    this.running = false;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
