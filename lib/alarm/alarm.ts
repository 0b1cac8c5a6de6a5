/**
 * The alarm engine (docs/camera-alarm.md): the sustained-motion rule (docs/camera-alarm.md §3), the schedule (docs/camera-alarm.md §4) and the state machine
 * (docs/camera-alarm.md §5) joined, with the 1 Hz status, alerts (docs/camera-alarm.md §6.2) and commands. Framework-free; the
 * `vigil-alarm` node is a thin adapter around it.
 *
 * Events:
 * - `status` (AlarmStatus): every second and at once on every change (docs/camera-alarm.md §12 #6)
 * - `alert` (Alert): a real alarm ("Alarm") or a test ("Test, Test")
 * - `reenable` (): an off→on transition (and a start inside the window): alerters disabled
 *   at run time go back to enabled (docs/camera-alarm.md §6.2, kept as the reference's safety feature, docs/camera-alarm.md §12 #15;
 *   which alerters that is, is the system's business: `SystemHub.runtimeDisabledAlerters`)
 * - `persist` (StateSnapshot): the state changed; store it to survive a restart
 */
import { EventEmitter } from 'node:events';
import { Clock, TimerHandle, systemClock } from '../common/clock';
import { missing, notGe, notInt, validateData, valueError } from '../common/commands';
import type { CommandName, CommandReply, ConfigError, ConfigSection } from '../system/types';
import { MotionHistory } from './rule';
import { Schedule, hostTimezone } from './schedule';
import { AlarmState, AlarmStateMachine, StateSnapshot, TransitionError } from './state';

export interface AlarmSettings {
  startTime: string;
  endTime: string;
  /** IANA name; '' = the host's. */
  timezone: string;
  alertTimeS: number;
  minMovementS: number;
  initialAlarmDurationM: number;
  alarmHysteresisS: number;
}

export const DEFAULT_ALARM_SETTINGS: AlarmSettings = {
  startTime: '19:00',
  endTime: '07:00',
  timezone: '',
  alertTimeS: 180,
  minMovementS: 10,
  initialAlarmDurationM: 30,
  alarmHysteresisS: 60,
};

export interface Alert {
  message: 'Alarm' | 'Test, Test';
  test: boolean;
  excluded: string[];
}

/** The `alerting` section (docs/camera-alarm.md §1.2), plus `timezone`. */
export function toSection(s: AlarmSettings): ConfigSection {
  return {
    start_time: s.startTime,
    end_time: s.endTime,
    timezone: s.timezone,
    alert_time_s: s.alertTimeS,
    min_movement_s: s.minMovementS,
    initial_alarm_duration_m: s.initialAlarmDurationM,
    alarm_hysteresis_s: s.alarmHysteresisS,
  };
}

/** Int coercion as docs/camera-alarm.md §8.2 describes: integers, integral numeric strings. */
function asInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number(v);
  return undefined;
}

/**
 * A section that validated, as settings. `timezone` is ours, not in docs/camera-alarm.md §1.2: a section
 * without it (a reference client's) keeps `current.timezone`; only an explicit "" means the
 * host's zone.
 */
export function fromSection(p: ConfigSection, current?: AlarmSettings): AlarmSettings {
  return {
    startTime: String(p.start_time),
    endTime: String(p.end_time),
    timezone: typeof p.timezone === 'string' ? p.timezone : (current?.timezone ?? ''),
    alertTimeS: asInt(p.alert_time_s) as number,
    minMovementS: asInt(p.min_movement_s) as number,
    initialAlarmDurationM: asInt(p.initial_alarm_duration_m) as number,
    alarmHysteresisS: asInt(p.alarm_hysteresis_s) as number,
  };
}

/**
 * Errors for an `alerting` section (loc under `prefix`). Beyond docs/camera-alarm.md §1.2: every number
 * is checked, and 1 ≤ min_movement_s ≤ alert_time_s (docs/camera-alarm.md §12 #4), and the timezone.
 */
export function validateAlerting(p: ConfigSection, prefix: Array<string | number> = ['alerting']): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const k of ['start_time', 'end_time']) {
    if (p[k] === undefined || p[k] === null) errors.push(missing([...prefix, k]));
  }
  // `timezone` is optional (not in docs/camera-alarm.md §1.2): left out or null, the current one is kept.
  const tz = p.timezone === null ? undefined : p.timezone;
  if (errors.length === 0) errors.push(...Schedule.errors(p.start_time, p.end_time, tz, prefix));
  else if (tz !== undefined) errors.push(...Schedule.errors('0:0', '0:0', tz, prefix));
  const ints: Array<[string, number]> = [
    ['alert_time_s', 1],
    ['min_movement_s', 1],
    ['initial_alarm_duration_m', 0],
    ['alarm_hysteresis_s', 0],
  ];
  const values: Record<string, number> = {};
  for (const [k, min] of ints) {
    if (p[k] === undefined || p[k] === null) {
      errors.push(missing([...prefix, k]));
      continue;
    }
    const n = asInt(p[k]);
    if (n === undefined || (typeof p[k] === 'number' && !Number.isInteger(p[k]))) {
      errors.push(notInt([...prefix, k]));
      continue;
    }
    if (n < min) {
      errors.push(notGe([...prefix, k], min));
      continue;
    }
    values[k] = n;
  }
  if (values.alert_time_s !== undefined && values.min_movement_s !== undefined && values.min_movement_s > values.alert_time_s) {
    errors.push(valueError([...prefix, 'min_movement_s'], 'min_movement_s must not be greater than alert_time_s'));
  }
  return errors;
}

export interface AlarmEngineOptions {
  settings: AlarmSettings;
  clock?: Clock;
  /** A stored state to resume from (redeploy / restart). */
  snapshot?: Partial<StateSnapshot>;
}

export class AlarmEngine extends EventEmitter {
  readonly clock: Clock;
  readonly machine: AlarmStateMachine;
  private _settings: AlarmSettings;
  private schedule: Schedule;
  private readonly history: MotionHistory;
  private tickTimer?: TimerHandle;
  private _verdict = false;
  /** A manual on/off that holds until the schedule's verdict changes. */
  private override?: { state: 'on' | 'off'; window: boolean };
  private lastWindow?: boolean;

  /** Throws RangeError on invalid settings (validate first). */
  constructor(opts: AlarmEngineOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    const errors = validateAlerting(toSection(opts.settings));
    if (errors.length > 0) throw new RangeError(errors.map((e) => `${e.loc.slice(1).join('.')}: ${e.msg}`).join('; '));
    this._settings = { ...opts.settings };
    this.schedule = new Schedule(opts.settings.startTime, opts.settings.endTime, opts.settings.timezone || hostTimezone());
    this.history = new MotionHistory(opts.settings.alertTimeS, opts.settings.minMovementS);
    this.machine = new AlarmStateMachine({
      clock: this.clock,
      alarmHysteresisS: opts.settings.alarmHysteresisS,
      initialAlarmDurationM: opts.settings.initialAlarmDurationM,
    });
    if (opts.snapshot) this.machine.restore(opts.snapshot);
    this.machine.on('change', (status, prev: AlarmState) => {
      if (prev === 'off' && status.state === 'on') {
        this.history.reset(); // docs/camera-alarm.md §12 #14: no stale history after a pause
        this._verdict = false;
        this.emit('reenable');
      }
      this.emit('persist', this.machine.snapshot());
      this.emit('status', status);
    });
    this.machine.on('alarm', () => this.emit('alert', { message: 'Alarm', test: false, excluded: [] } satisfies Alert));
  }

  get settings(): AlarmSettings {
    return { ...this._settings };
  }

  get state(): AlarmState {
    return this.machine.state;
  }

  /** The latest sustained-motion verdict. */
  get verdict(): boolean {
    return this._verdict;
  }

  /** The motion history, newest first (for diagnostics). */
  historyArray(): number[] {
    return this.history.toArray();
  }

  /** Start the 1 Hz tick; evaluates the schedule and emits a status at once. */
  start(): void {
    if (this.tickTimer !== undefined) return;
    const before = this.machine.state;
    this.evaluateSchedule();
    if (before === 'on' && this.machine.state === 'on') this.emit('reenable'); // startup inside the window
    this.emit('status', this.machine.status());
    this.tickTimer = this.clock.setInterval(() => this.tick(), 1000);
  }

  stop(): void {
    this.clock.clearInterval(this.tickTimer);
    this.tickTimer = undefined;
  }

  dispose(): void {
    this.stop();
    this.machine.dispose();
    this.removeAllListeners();
  }

  /** One tick: the schedule, then the status heartbeat. */
  tick(): void {
    this.evaluateSchedule();
    this.emit('status', this.machine.status());
  }

  private evaluateSchedule(): void {
    const window = this.schedule.isScheduled(this.clock.now());
    if (this.override && window !== this.override.window) this.override = undefined; // the schedule moved on
    this.lastWindow = window;
    const want = this.override ? this.override.state === 'on' : window;
    this.machine.scheduled(want);
  }

  /** Whether the schedule has monitoring on now (ignoring a manual override). */
  get inWindow(): boolean {
    return this.lastWindow ?? this.schedule.isScheduled(this.clock.now());
  }

  /**
   * One detection second of activity. Ignored while off (docs/camera-alarm.md §12 #16). Returns the
   * sustained-motion verdict (false while off).
   */
  activity(active: boolean): boolean {
    if (this.machine.state === 'off') return false;
    this._verdict = this.history.push(active);
    this.machine.detection(this._verdict);
    return this._verdict;
  }

  /** Send a test alert (works in every state, docs/camera-alarm.md §6.2). */
  test(excluded: string[] = []): void {
    this.emit('alert', { message: 'Test, Test', test: true, excluded: [...excluded] } satisfies Alert);
  }

  /** `silence`, `test`, `on`, `off` (config_update/shutdown belong to the system hub). */
  command(name: CommandName, data: unknown): CommandReply {
    try {
      switch (name) {
        case 'silence': {
          const v = validateData('silence', data);
          if ('errors' in v) return { error: v.errors };
          this.machine.silence(v.data.silenceFor as number);
          return { status: 'OK' };
        }
        case 'test': {
          const v = validateData('test', data);
          if ('errors' in v) return { error: v.errors };
          this.test(v.data.excluded as string[]);
          return { status: 'OK' };
        }
        case 'on':
        case 'off': {
          const window = this.schedule.isScheduled(this.clock.now());
          const state = this.machine.state;
          if (name === 'off' && state !== 'off') this.machine.turnOff();
          if (name === 'on' && state === 'off') this.machine.turnOn();
          if (name === 'on' && state === 'silenced') this.machine.turnOn(); // refused: ConditionsNotMet
          this.override = window === (name === 'on') ? undefined : { state: name, window };
          return { status: 'OK' };
        }
        default:
          return { error: `The alarm does not handle the "${String(name)}" command` };
      }
    } catch (err) {
      if (err instanceof TransitionError || err instanceof RangeError) return { error: err.message };
      throw err;
    }
  }

  /** Apply a new `alerting` section that validated (a section without `timezone` keeps it). */
  applySection(p: ConfigSection): void {
    const s = fromSection(p, this._settings);
    this._settings = s;
    this.schedule = new Schedule(s.startTime, s.endTime, s.timezone || hostTimezone());
    this.machine.alarmHysteresisS = s.alarmHysteresisS;
    this.machine.initialAlarmDurationM = s.initialAlarmDurationM;
    this.history.resize(s.alertTimeS, s.minMovementS);
    this.override = undefined;
    if (this.tickTimer !== undefined) this.evaluateSchedule();
  }
}
