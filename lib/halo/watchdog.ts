/**
 * Heartbeat watchdog: one timer per device. `beat(device)` on every heartbeat; after
 * `missed` × `intervalMs` of silence the device goes offline; the next heartbeat brings
 * it back online. Time comes from the injected {@link Clock}.
 */
import type { Clock, TimerHandle } from '../common/clock';

export interface OnlineChange {
  device: string;
  online: boolean;
  /** ms epoch of the last heartbeat (undefined if none was ever seen). */
  lastSeen: number | undefined;
}

export interface WatchdogOptions {
  clock: Clock;
  intervalMs: number;
  missed: number;
  onChange: (change: OnlineChange) => void;
}

interface DeviceState {
  online: boolean;
  lastSeen: number;
  timer?: TimerHandle;
}

export class HeartbeatWatchdog {
  private readonly devices = new Map<string, DeviceState>();
  private readonly opts: WatchdogOptions;
  private closed = false;

  constructor(opts: WatchdogOptions) {
    if (!(opts.intervalMs > 0) || !(opts.missed >= 1)) throw new RangeError('watchdog: interval and missed heartbeats must be positive');
    this.opts = opts;
  }

  /** Silence after which a device is declared offline. */
  get timeoutMs(): number {
    return this.opts.intervalMs * this.opts.missed;
  }

  /** A heartbeat from `device` arrived now. */
  beat(device: string): void {
    if (this.closed) return;
    const now = this.opts.clock.now();
    let st = this.devices.get(device);
    const wasOnline = st?.online ?? false;
    if (!st) {
      st = { online: true, lastSeen: now };
      this.devices.set(device, st);
    } else {
      this.opts.clock.clearTimeout(st.timer);
      st.online = true;
      st.lastSeen = now;
    }
    const state = st;
    state.timer = this.opts.clock.setTimeout(() => {
      state.timer = undefined;
      state.online = false;
      this.opts.onChange({ device, online: false, lastSeen: state.lastSeen });
    }, this.timeoutMs);
    if (!wasOnline) this.opts.onChange({ device, online: true, lastSeen: now });
  }

  isOnline(device: string): boolean | undefined {
    return this.devices.get(device)?.online;
  }

  /** Devices seen so far with their state. */
  list(): OnlineChange[] {
    return [...this.devices.entries()].map(([device, s]) => ({ device, online: s.online, lastSeen: s.lastSeen }));
  }

  close(): void {
    this.closed = true;
    for (const s of this.devices.values()) this.opts.clock.clearTimeout(s.timer);
    this.devices.clear();
  }
}
