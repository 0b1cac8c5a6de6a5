import assert from 'node:assert/strict';
import { FakeClock } from '../../../lib/common/clock';
import { MAX_TIMER_MS } from '../../../lib/common/timer';
import { AlarmStateMachine, TransitionError, invalidStartMessage } from '../../../lib/alarm/state';
import type { AlarmState } from '../../../lib/alarm/state';

const T0 = 1_700_000_000_000;

function machine(state: AlarmState, opts: { hyst?: number; dur?: number } = {}): { m: AlarmStateMachine; clock: FakeClock } {
  const clock = new FakeClock(T0);
  const m = new AlarmStateMachine({ clock, alarmHysteresisS: opts.hyst ?? 30, initialAlarmDurationM: opts.dur ?? 60 });
  m.restore({ state, silencedTill: state === 'silenced' ? T0 / 1000 + 100 : null });
  return { m, clock };
}

function refusal(fn: () => void): TransitionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TransitionError) return err;
    throw err;
  }
  assert.fail('expected a refusal');
}

describe('lib/alarm/state: transitions (§5.2)', () => {
  const all: AlarmState[] = ['on', 'off', 'alarm', 'silenced'];
  const table: Record<string, { from: AlarmState[]; to: AlarmState; call: (m: AlarmStateMachine) => void }> = {
    turn_on: { from: ['off'], to: 'on', call: (m) => m.turnOn() },
    turn_off: { from: ['on', 'alarm', 'silenced'], to: 'off', call: (m) => m.turnOff() },
    alarm: { from: ['on', 'alarm'], to: 'alarm', call: (m) => m.alarm() },
    alarm_reset: { from: ['alarm'], to: 'on', call: (m) => m.alarmReset() },
    silence: { from: ['alarm', 'on', 'silenced'], to: 'silenced', call: (m) => m.silence(10) },
    unsilence: { from: ['silenced'], to: 'on', call: (m) => m.unsilence() },
  };
  for (const [trigger, row] of Object.entries(table)) {
    for (const from of all) {
      const ok = row.from.includes(from);
      it(`${trigger} from ${from}: ${ok ? `→ ${row.to}` : 'refused'}`, () => {
        const { m } = machine(from);
        if (ok) {
          row.call(m);
          assert.equal(m.state, row.to);
        } else {
          const err = refusal(() => row.call(m));
          assert.equal(m.state, from);
          // silenced is a legal source for turn_on and alarm, but their guard refuses it
          const guard = from === 'silenced' && (trigger === 'turn_on' || trigger === 'alarm');
          assert.equal(err.kind, guard ? 'ConditionsNotMet' : 'InvalidStartState');
        }
      });
    }
  }

  it('refuses with the reference wording', () => {
    const { m } = machine('off');
    const err = refusal(() => m.silence(5));
    assert.equal(err.message, "Current state is State.OFF. silence allows transitions from [<State.ALARM: 'alarm'>, <State.ON: 'on'>, <State.SILENCED: 'silenced'>].");
    assert.equal(invalidStartMessage('off', 'alarm'), "Current state is State.OFF. alarm allows transitions from [<State.ON: 'on'>, <State.ALARM: 'alarm'>, <State.SILENCED: 'silenced'>].");
  });

  it('§11.10: on→alarm and on→silenced allowed; off→alarm and off→silenced refused', () => {
    let { m } = machine('on');
    m.alarm();
    assert.equal(m.state, 'alarm');
    ({ m } = machine('on'));
    m.silence(5);
    assert.equal(m.state, 'silenced');
    ({ m } = machine('off'));
    assert.equal(refusal(() => m.alarm()).kind, 'InvalidStartState');
    assert.equal(refusal(() => m.silence(1)).kind, 'InvalidStartState');
  });

  it('detection and schedule updates swallow refusals; detection is ignored while off', () => {
    const { m } = machine('off');
    m.detection(true);
    assert.equal(m.state, 'off');
    m.scheduled(false);
    assert.equal(m.state, 'off');
    m.scheduled(true);
    assert.equal(m.state, 'on');
    m.detection(false); // alarm_reset from on: refused, swallowed
    assert.equal(m.state, 'on');
    m.detection(true);
    assert.equal(m.state, 'alarm');
    m.detection(false);
    assert.equal(m.state, 'on');
  });
});

describe('lib/alarm/state: hysteresis, initial alarm, silence (§5.3, §11.10)', () => {
  it('hysteresis 30: an alarm 15 s later is refused, 31 s later allowed (strictly greater)', () => {
    const { m, clock } = machine('on', { hyst: 30 });
    const alarms: number[] = [];
    m.on('alarm', (t: number) => alarms.push(t));
    m.alarm();
    m.alarmReset();
    clock.advance(15000);
    assert.equal(refusal(() => m.alarm()).kind, 'ConditionsNotMet');
    clock.advance(15000); // exactly +30: still refused
    assert.equal(refusal(() => m.alarm()).kind, 'ConditionsNotMet');
    clock.advance(1000); // +31
    m.alarm();
    assert.deepEqual(alarms, [T0 / 1000, T0 / 1000 + 31]);
  });

  it('initialAlarm: set by the first alarm, kept at +180 s, reset at duration + 1 s', () => {
    const { m, clock } = machine('on', { hyst: 30, dur: 60 });
    assert.equal(m.initialAlarm, 0);
    m.alarm();
    const first = T0 / 1000;
    assert.equal(m.initialAlarm, first);
    assert.equal(m.lastAlarm, first);
    clock.advance(180000);
    m.alarm();
    assert.equal(m.initialAlarm, first, 'kept within the cluster');
    assert.equal(m.lastAlarm, first + 180);
    clock.advance((3600 + 1 - 180) * 1000); // duration + 1 s after the first alarm
    m.alarm();
    assert.equal(m.initialAlarm, first + 3601, 'a new cluster starts');
  });

  it('silence: silencedTill = now + N, unsilence after N s, null outside silenced; re-silence restarts the timer', () => {
    const { m, clock } = machine('on');
    const states: string[] = [];
    m.on('change', (s: { state: string }) => states.push(s.state));
    m.silence(10);
    assert.equal(m.status().silencedTill, T0 / 1000 + 10);
    clock.advance(5000);
    m.silence(10); // from silenced: restart
    assert.equal(m.status().silencedTill, T0 / 1000 + 15);
    clock.advance(9999);
    assert.equal(m.state, 'silenced');
    assert.equal(refusal(() => m.alarm()).kind, 'ConditionsNotMet', 'no alarm while silenced');
    clock.advance(1);
    assert.equal(m.state, 'on');
    assert.equal(m.status().silencedTill, null);
    assert.deepEqual(states, ['silenced', 'silenced', 'on']);
    assert.equal(clock.pending, 0);
  });

  it('silenceFor 0 un-silences at the next turn; turn-off cancels the pending unsilence', () => {
    const { m, clock } = machine('alarm');
    m.silence(0);
    assert.equal(m.state, 'silenced');
    clock.advance(0);
    assert.equal(m.state, 'on');
    m.silence(60);
    m.turnOff();
    assert.equal(m.state, 'off');
    assert.equal(m.status().silencedTill, null);
    assert.equal(clock.pending, 0);
  });

  it('snapshot/restore keeps state, clusters and a running silence', () => {
    const { m, clock } = machine('on');
    m.alarm();
    m.silence(100);
    const snap = JSON.parse(JSON.stringify(m.snapshot()));
    m.dispose();
    clock.advance(40000);
    const m2 = new AlarmStateMachine({ clock, alarmHysteresisS: 30, initialAlarmDurationM: 60 });
    m2.restore(snap);
    assert.equal(m2.state, 'silenced');
    assert.equal(m2.initialAlarm, T0 / 1000);
    assert.equal(m2.lastAlarm, T0 / 1000);
    clock.advance(59999);
    assert.equal(m2.state, 'silenced');
    clock.advance(1);
    assert.equal(m2.state, 'on');
    // a silence that ran out while stopped ends at once
    const m3 = new AlarmStateMachine({ clock });
    m3.restore({ ...snap, silencedTill: clock.now() / 1000 - 5 });
    clock.advance(0);
    assert.equal(m3.state, 'on');
  });
  it('a 30-day silence lasts 30 days (no single timer longer than Node holds); above 366 days it is refused', () => {
    const { m, clock } = machine('on');
    const days = (n: number): number => n * 86_400;
    m.silence(days(30));
    assert.ok(Math.max(...clock.dueIn()) <= MAX_TIMER_MS, `a timer of ${Math.max(...clock.dueIn())} ms`);
    clock.advance(days(29) * 1000);
    assert.equal(m.state, 'silenced');
    clock.advance(days(1) * 1000);
    assert.equal(m.state, 'on');
    assert.throws(() => m.silence(days(367)), /longer than the maximum of 366 days/);
    // a stored silence far away (a restart) is chained the same way
    const { m: m2, clock: c2 } = machine('on');
    m2.restore({ state: 'silenced', silencedTill: T0 / 1000 + days(100) });
    assert.ok(Math.max(...c2.dueIn()) <= MAX_TIMER_MS);
    c2.advance(days(99) * 1000);
    assert.equal(m2.state, 'silenced');
    m2.dispose();
    assert.equal(c2.pending, 0);
  });
});
