/**
 * The alarm state machine (docs/camera-alarm.md §5): states on/off/alarm/silenced, the
 * transition table of docs/camera-alarm.md §5.2 with its two refusals (InvalidStartState, ConditionsNotMet)
 * and their wording, hysteresis, initial-alarm clusters and the silence timer. Time comes
 * from an injected clock. Fixes from docs/camera-alarm.md §12: `silencedTill` is null outside `silenced` (#7),
 * detection updates are ignored while off (#16), a turn-off cancels a pending unsilence.
 * The silence timer is a long timer (lib/common/timer.ts): a silence of 30 days lasts 30 days.
 */
import { EventEmitter } from 'node:events';
import { Clock, systemClock } from '../common/clock';
import { type LongTimer, durationProblem, longTimeout } from '../common/timer';
import type { AlarmStatus } from '../system/types';

export type AlarmState = AlarmStatus['state'];
export type Trigger = 'turn_on' | 'turn_off' | 'alarm' | 'alarm_reset' | 'silence' | 'unsilence';

/** Allowed source states, in the order of docs/camera-alarm.md §5.2 (it shows up in the error message). */
export const TRANSITIONS: Record<Trigger, { from: readonly AlarmState[]; to: AlarmState }> = {
  turn_on: { from: ['off', 'silenced'], to: 'on' },
  turn_off: { from: ['on', 'alarm', 'silenced'], to: 'off' },
  alarm: { from: ['on', 'alarm', 'silenced'], to: 'alarm' },
  alarm_reset: { from: ['alarm'], to: 'on' },
  silence: { from: ['alarm', 'on', 'silenced'], to: 'silenced' },
  unsilence: { from: ['silenced'], to: 'on' },
};

const stateRepr = (s: AlarmState): string => `State.${s.toUpperCase()}`;

export class TransitionError extends Error {
  constructor(
    readonly kind: 'InvalidStartState' | 'ConditionsNotMet',
    readonly trigger: Trigger,
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

/** "Current state is State.OFF. silence allows transitions from [<State.ALARM: 'alarm'>, …]." */
export function invalidStartMessage(state: AlarmState, trigger: Trigger): string {
  const from = TRANSITIONS[trigger].from.map((s) => `<${stateRepr(s)}: '${s}'>`).join(', ');
  return `Current state is ${stateRepr(state)}. ${trigger} allows transitions from [${from}].`;
}

export interface StateMachineOptions {
  clock?: Clock;
  alarmHysteresisS?: number;
  initialAlarmDurationM?: number;
}

/** What survives a redeploy or restart. Times in seconds (float), like the status. */
export interface StateSnapshot {
  state: AlarmState;
  initialAlarm: number;
  silencedTill: number | null;
  lastAlarm: number | null;
}

/**
 * Events: `change` (AlarmStatus, prev state) after every transition that changes something,
 * `alarm` (time s) on every successful alarm (an alert is due).
 */
export class AlarmStateMachine extends EventEmitter {
  private readonly clock: Clock;
  private _state: AlarmState = 'on';
  private _initialAlarm = 0;
  private _silencedTill: number | null = null;
  private _lastAlarm: number | null = null;
  private silenceTimer?: LongTimer;
  alarmHysteresisS: number;
  initialAlarmDurationM: number;

  constructor(opts: StateMachineOptions = {}) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.alarmHysteresisS = opts.alarmHysteresisS ?? 60;
    this.initialAlarmDurationM = opts.initialAlarmDurationM ?? 30;
  }

  get state(): AlarmState {
    return this._state;
  }
  get initialAlarm(): number {
    return this._initialAlarm;
  }
  get silencedTill(): number | null {
    return this._silencedTill;
  }
  get lastAlarm(): number | null {
    return this._lastAlarm;
  }

  private nowS(): number {
    return this.clock.now() / 1000;
  }

  /** The status object (docs/camera-alarm.md §5.4), stamped now. */
  status(): AlarmStatus {
    return { timeStamp: this.nowS(), state: this._state, initialAlarm: this._initialAlarm, silencedTill: this._state === 'silenced' ? this._silencedTill : null };
  }

  private check(trigger: Trigger): void {
    if (!TRANSITIONS[trigger].from.includes(this._state)) {
      throw new TransitionError('InvalidStartState', trigger, invalidStartMessage(this._state, trigger));
    }
  }

  private go(to: AlarmState): void {
    const prev = this._state;
    this._state = to;
    if (to !== 'silenced') this._silencedTill = null;
    this.emit('change', this.status(), prev);
  }

  /** Scheduler: in the window. Guard: not silenced. */
  turnOn(): void {
    this.check('turn_on');
    if (this._state === 'silenced') {
      throw new TransitionError('ConditionsNotMet', 'turn_on', 'Conditions not met for turn_on: the system is silenced');
    }
    this.go('on');
  }

  /** Scheduler: out of the window (or the `off` command). Cancels a pending unsilence. */
  turnOff(): void {
    this.check('turn_off');
    this.clearSilenceTimer();
    this.go('off');
  }

  /** Detection true. Guards: hysteresis finished (strictly) and not silenced. */
  alarm(): void {
    this.check('alarm');
    const now = this.nowS();
    if (this._state === 'silenced') {
      throw new TransitionError('ConditionsNotMet', 'alarm', 'Conditions not met for alarm: the system is silenced');
    }
    if (this._lastAlarm !== null && !(now > this._lastAlarm + this.alarmHysteresisS)) {
      throw new TransitionError('ConditionsNotMet', 'alarm', `Conditions not met for alarm: within the ${this.alarmHysteresisS} s hysteresis`);
    }
    this._lastAlarm = now;
    if (this._initialAlarm + this.initialAlarmDurationM * 60 < now) this._initialAlarm = now;
    this.go('alarm');
    this.emit('alarm', now);
  }

  /** Detection false. */
  alarmReset(): void {
    this.check('alarm_reset');
    this.go('on');
  }

  /** Silence for `seconds` (0 … 366 days; 0 = unsilence at the next turn of the loop). */
  silence(seconds: number): void {
    this.check('silence');
    const problem = durationProblem(seconds * 1000, 'silenceFor');
    if (problem) throw new RangeError(problem);
    this.clearSilenceTimer();
    this._silencedTill = this.nowS() + seconds;
    this.armUnsilence(seconds * 1000);
    this.go('silenced');
  }

  /** Unsilence in `ms` (a long timer); a refusal then (the state changed meanwhile, e.g. off) is harmless (docs/camera-alarm.md §5.2). */
  private armUnsilence(ms: number): void {
    this.silenceTimer = longTimeout(
      this.clock,
      () => {
        this.silenceTimer = undefined;
        try {
          this.unsilence();
        } catch {
          // state changed meanwhile
        }
      },
      ms,
    );
  }

  unsilence(): void {
    this.check('unsilence');
    this.clearSilenceTimer();
    this.go('on');
  }

  /** A detection update (docs/camera-alarm.md §5.2): true tries `alarm`, false tries `alarm_reset`; refusals are swallowed. Ignored while off. */
  detection(active: boolean): void {
    if (this._state === 'off') return;
    try {
      if (active) this.alarm();
      else this.alarmReset();
    } catch (err) {
      if (!(err instanceof TransitionError)) throw err;
    }
  }

  /** The scheduler's verdict: on → `turn_on`, off → `turn_off`; refusals are swallowed. */
  scheduled(inWindow: boolean): void {
    try {
      if (inWindow) this.turnOn();
      else this.turnOff();
    } catch (err) {
      if (!(err instanceof TransitionError)) throw err;
    }
  }

  snapshot(): StateSnapshot {
    return { state: this._state, initialAlarm: this._initialAlarm, silencedTill: this._state === 'silenced' ? this._silencedTill : null, lastAlarm: this._lastAlarm };
  }

  /** Restore a snapshot (no `change` event). A silence that ran out meanwhile ends at once. */
  restore(s: Partial<StateSnapshot>): void {
    const states: AlarmState[] = ['on', 'off', 'alarm', 'silenced'];
    this.clearSilenceTimer();
    this._state = s.state && states.includes(s.state) ? s.state : 'on';
    this._initialAlarm = typeof s.initialAlarm === 'number' && Number.isFinite(s.initialAlarm) ? s.initialAlarm : 0;
    this._lastAlarm = typeof s.lastAlarm === 'number' && Number.isFinite(s.lastAlarm) ? s.lastAlarm : null;
    this._silencedTill = null;
    if (this._state === 'silenced') {
      const till = typeof s.silencedTill === 'number' && Number.isFinite(s.silencedTill) ? s.silencedTill : this.nowS();
      this._silencedTill = till;
      this.armUnsilence(Math.max(0, till - this.nowS()) * 1000);
    }
  }

  private clearSilenceTimer(): void {
    this.silenceTimer?.clear();
    this.silenceTimer = undefined;
  }

  /** Free the timer. */
  dispose(): void {
    this.clearSilenceTimer();
    this.removeAllListeners();
  }
}
