import assert from 'node:assert/strict';
import { FakeClock } from '../../../lib/common/clock';
import { AlarmEngine, AlarmSettings, Alert, DEFAULT_ALARM_SETTINGS, fromSection, toSection, validateAlerting } from '../../../lib/alarm/alarm';
import type { AlarmStatus } from '../../../lib/system/types';

const T0 = Date.parse('2026-06-01T12:00:00Z');

function engine(over: Partial<AlarmSettings> = {}, start = T0) {
  const clock = new FakeClock(start);
  const e = new AlarmEngine({ clock, settings: { ...DEFAULT_ALARM_SETTINGS, startTime: '00:00', endTime: '00:00', timezone: 'UTC', ...over } });
  const statuses: AlarmStatus[] = [];
  const alerts: Alert[] = [];
  let reenables = 0;
  e.on('status', (s: AlarmStatus) => statuses.push(s));
  e.on('alert', (a: Alert) => alerts.push(a));
  e.on('reenable', () => reenables++);
  return { e, clock, statuses, alerts, reenables: () => reenables };
}

describe('lib/alarm/alarm: the engine', () => {
  it('activity at 1 Hz raises one Alarm after alertTimeS − minMovementS seconds, then again after the hysteresis', () => {
    const { e, clock, alerts, statuses } = engine({ alertTimeS: 45, minMovementS: 2, alarmHysteresisS: 60 });
    e.start();
    let firstAt = -1;
    for (let t = 1; t <= 200; t++) {
      clock.advance(1000);
      e.activity(true);
      if (alerts.length === 1 && firstAt < 0) firstAt = t;
    }
    assert.equal(firstAt, 43);
    assert.deepEqual(alerts[0], { message: 'Alarm', test: false, excluded: [] });
    // sustained: a fresh alarm each time the hysteresis (strictly) runs out: t=43, 104, 165
    assert.equal(alerts.length, 3);
    assert.equal(e.state, 'alarm');
    assert.ok(statuses.some((s) => s.state === 'alarm'));
    e.dispose();
    assert.equal(clock.pending, 0);
  });

  it('status every second and at once on a change; silencedTill null outside silenced', () => {
    const { e, clock, statuses } = engine();
    e.start();
    assert.equal(statuses.length, 1);
    clock.advance(3000);
    assert.equal(statuses.length, 4);
    assert.equal(statuses[3].timeStamp, T0 / 1000 + 3);
    assert.deepEqual(e.command('silence', { silenceFor: 2 }), { status: 'OK' });
    assert.equal(statuses.length, 5, 'pushed at once');
    assert.deepEqual(statuses[4], { timeStamp: T0 / 1000 + 3, state: 'silenced', initialAlarm: 0, silencedTill: T0 / 1000 + 5 });
    clock.advance(2000);
    const last = statuses[statuses.length - 1];
    assert.equal(last.state, 'on');
    assert.equal(last.silencedTill, null);
    e.dispose();
  });

  it('follows the schedule; off→on resets the history and re-enables alerters; activity ignored while off', () => {
    // window 12:00:00–12:01:59 UTC... start outside it at 11:59
    const { e, clock, alerts, reenables } = engine({ startTime: '12:00', endTime: '12:10', alertTimeS: 5, minMovementS: 1 }, T0 - 60000);
    e.start();
    assert.equal(e.state, 'off');
    assert.equal(reenables(), 0);
    for (let i = 0; i < 30; i++) {
      clock.advance(1000);
      assert.equal(e.activity(true), false);
    }
    assert.equal(alerts.length, 0);
    clock.advance(30000); // 12:00:00
    assert.equal(e.state, 'on');
    assert.equal(reenables(), 1);
    assert.deepEqual(e.historyArray(), [0, 0, 0, 0, 0]);
    for (let i = 0; i < 4; i++) e.activity(true);
    assert.equal(alerts.length, 1);
    clock.advance(11 * 60000); // 12:11 → off
    assert.equal(e.state, 'off');
    e.dispose();
  });

  it('a start inside the window re-enables alerters (like the reference at startup)', () => {
    const { e, reenables } = engine();
    e.start();
    assert.equal(reenables(), 1);
    e.dispose();
  });

  it('commands: silence from off gets the reference error; test alerts in any state; bad data errors', () => {
    const { e } = engine({ startTime: '20:00', endTime: '21:00' });
    const alerts: Alert[] = [];
    e.on('alert', (a: Alert) => alerts.push(a));
    e.start();
    assert.equal(e.state, 'off');
    assert.deepEqual(e.command('silence', { silenceFor: 5 }), {
      error: "Current state is State.OFF. silence allows transitions from [<State.ALARM: 'alarm'>, <State.ON: 'on'>, <State.SILENCED: 'silenced'>].",
    });
    assert.deepEqual(e.command('test', { excluded: ['telegram'] }), { status: 'OK' });
    assert.deepEqual(alerts, [{ message: 'Test, Test', test: true, excluded: ['telegram'] }]);
    assert.deepEqual(e.command('silence', { wrong_field: 180 }), { error: [{ loc: ['data', 'silenceFor'], msg: 'field required', type: 'value_error.missing' }] });
    assert.deepEqual(e.command('test', { silenced_for: 1 }), { error: [{ loc: ['data', 'excluded'], msg: 'field required', type: 'value_error.missing' }] });
    assert.ok('error' in e.command('shutdown', {}));
    e.dispose();
  });

  it('on/off commands override the schedule until its verdict changes', () => {
    const { e, clock } = engine({ startTime: '12:00', endTime: '12:10' }, T0 - 120000); // 11:58, off
    e.start();
    assert.equal(e.state, 'off');
    assert.deepEqual(e.command('on', {}), { status: 'OK' });
    assert.equal(e.state, 'on');
    clock.advance(60000);
    assert.equal(e.state, 'on', 'held against the schedule');
    clock.advance(60000); // 12:00: the schedule says on too; override ends
    assert.deepEqual(e.command('off', {}), { status: 'OK' });
    clock.advance(5 * 60000);
    assert.equal(e.state, 'off', 'held off inside the window');
    clock.advance(6 * 60000); // 12:11: window over, override gone
    assert.equal(e.state, 'off');
    e.command('silence', { silenceFor: 5 });
    assert.deepEqual(e.command('on', {}), { status: 'OK' });
    e.command('silence', { silenceFor: 50 });
    assert.ok('error' in e.command('on', {}), 'on while silenced is refused (guard)');
    e.dispose();
  });

  it('applies a new alerting section in place', () => {
    const { e, clock } = engine({ alertTimeS: 10, minMovementS: 2 });
    e.start();
    e.applySection({ ...toSection(e.settings), start_time: '20:00', end_time: '21:00', alarm_hysteresis_s: 5 });
    assert.equal(e.state, 'off');
    assert.equal(e.machine.alarmHysteresisS, 5);
    clock.advance(1000);
    e.dispose();
  });

  it('a section without timezone (a reference client\'s) keeps the zone; only "" means the host\'s', () => {
    // 12:00 UTC = 00:00 in Auckland (NZST, UTC+12): inside 23:00–01:00 there, outside it in UTC
    const { e } = engine({ startTime: '23:00', endTime: '01:00', timezone: 'Pacific/Auckland' });
    e.start();
    assert.equal(e.state, 'on');
    const reference = { start_time: '23:00', end_time: '01:00', alert_time_s: 180, min_movement_s: 10, initial_alarm_duration_m: 30, alarm_hysteresis_s: 60 };
    assert.deepEqual(validateAlerting(reference), []);
    assert.deepEqual(validateAlerting({ ...reference, timezone: null }), [], 'null: left out');
    e.applySection(reference);
    assert.equal(e.settings.timezone, 'Pacific/Auckland');
    assert.equal(e.state, 'on', 'still judged in Auckland');
    e.applySection({ ...reference, timezone: 'UTC' });
    assert.equal(e.state, 'off', 'an explicit zone applies');
    e.applySection({ ...reference, timezone: '' });
    assert.equal(e.settings.timezone, '', 'explicit "": the host\'s zone');
    assert.equal(fromSection(reference, { ...DEFAULT_ALARM_SETTINGS, timezone: 'Asia/Tokyo' }).timezone, 'Asia/Tokyo');
    assert.equal(fromSection(reference).timezone, '', 'nothing current: the host\'s zone');
    e.dispose();
  });

  it('validates the alerting section (1 ≤ min_movement_s ≤ alert_time_s, times, timezone, integers)', () => {
    assert.deepEqual(validateAlerting(toSection(DEFAULT_ALARM_SETTINGS)), []);
    const errs = validateAlerting({ start_time: '25:00', end_time: '07:00', timezone: 'X/Y', alert_time_s: 10, min_movement_s: 11, initial_alarm_duration_m: 'x', alarm_hysteresis_s: -1 });
    assert.deepEqual(
      errs.map((e) => [e.loc.join('.'), e.type]),
      [
        ['alerting.start_time', 'value_error'],
        ['alerting.timezone', 'value_error'],
        ['alerting.initial_alarm_duration_m', 'type_error.integer'],
        ['alerting.alarm_hysteresis_s', 'value_error.number.not_ge'],
        ['alerting.min_movement_s', 'value_error'],
      ],
    );
    assert.deepEqual(validateAlerting({ end_time: '1:00' }).map((e) => e.loc.join('.')), [
      'alerting.start_time',
      'alerting.alert_time_s',
      'alerting.min_movement_s',
      'alerting.initial_alarm_duration_m',
      'alerting.alarm_hysteresis_s',
    ]);
    assert.throws(() => new AlarmEngine({ settings: { ...DEFAULT_ALARM_SETTINGS, minMovementS: 0 } }), /min_movement_s/);
  });
});
