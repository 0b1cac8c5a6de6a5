import assert from 'node:assert/strict';
import { Schedule, isValidTimezone, localHourMinute, localTimeOfDay, parseTime } from '../../../lib/alarm/schedule';

const at = (iso: string): number => new Date(iso).getTime();

describe('lib/alarm/schedule', () => {
  it('localTimeOfDay: HH:MM:SS in the given zone (the silenced-till status, in the schedule zone)', () => {
    assert.equal(localTimeOfDay(at('2026-06-01T12:00:30Z'), 'UTC'), '12:00:30');
    assert.equal(localTimeOfDay(at('2026-06-01T15:00:30Z'), 'Asia/Tokyo'), '00:00:30');
    assert.equal(localTimeOfDay(at('2026-01-15T23:59:59Z'), 'Europe/Ljubljana'), '00:59:59');
  });

  // [title, start, end, times (UTC) in the window, times outside it]
  const windows: Array<[string, string, string, string[], string[]]> = [
    ['docs/camera-alarm.md §4 / §11.11: start 17:30, end 08:00 (overnight, inclusive minutes)', '17:30', '08:00', ['22:00:00', '04:00:00', '08:00:59', '17:30:00', '00:00:00'], ['17:00:00', '09:00:00', '08:01:00', '17:29:59']],
    ['a same-day window really is a window (the reference was always on)', '08:00', '12:00', ['08:00:00', '10:00:00', '12:00:59'], ['07:59:59', '12:01:00', '23:00:00']],
  ];
  for (const [title, start, end, inside, outside] of windows) {
    it(title, () => {
      const s = new Schedule(start, end, 'UTC');
      for (const t of inside) assert.equal(s.isScheduled(at(`2026-06-01T${t}Z`)), true, t);
      for (const t of outside) assert.equal(s.isScheduled(at(`2026-06-01T${t}Z`)), false, t);
    });
  }

  it('start == end, or start one minute after end, is always on', () => {
    const a = new Schedule('16:55', '16:55', 'UTC');
    const b = new Schedule('16:55', '16:54', 'UTC');
    assert.equal(a.alwaysOn, true);
    for (let h = 0; h < 24; h++) {
      for (const m of [0, 54, 55, 56]) {
        const ms = at('2026-06-01T00:00:00Z') + (h * 60 + m) * 60000;
        assert.equal(a.isScheduled(ms), true);
        assert.equal(b.isScheduled(ms), true);
      }
    }
  });

  it('uses the IANA timezone', () => {
    const s = new Schedule('19:00', '07:00', 'Pacific/Auckland'); // NZST = UTC+12 in June
    assert.deepEqual(localHourMinute(at('2026-06-01T08:00:00Z'), 'Pacific/Auckland'), { hour: 20, minute: 0 });
    assert.equal(s.isScheduled(at('2026-06-01T08:00:00Z')), true); // 20:00 local
    assert.equal(s.isScheduled(at('2026-06-01T00:00:00Z')), false); // 12:00 local
    assert.throws(() => new Schedule('19:00', '07:00', 'Mars/Olympus'), /Unknown timezone/);
    assert.equal(isValidTimezone('Europe/London'), true);
    assert.equal(isValidTimezone('nope'), false);
  });

  it('DST spring forward (Europe/London, 2026-03-29): a start inside the skipped hour starts at the jump', () => {
    const s = new Schedule('01:30', '06:00', 'Europe/London');
    assert.equal(s.isScheduled(at('2026-03-29T00:59:00Z')), false); // 00:59 GMT
    assert.equal(s.isScheduled(at('2026-03-29T01:00:00Z')), true); // 02:00 BST (01:30 never happens)
    assert.equal(s.isScheduled(at('2026-03-29T05:00:59Z')), true); // 06:00 BST
    assert.equal(s.isScheduled(at('2026-03-29T05:01:00Z')), false); // 06:01 BST
    // minute by minute through the day: exactly one off→on and one on→off edge
    let edges = 0;
    let prev = s.isScheduled(at('2026-03-28T23:00:00Z'));
    for (let t = at('2026-03-28T23:00:00Z'); t <= at('2026-03-29T23:00:00Z'); t += 60000) {
      const now = s.isScheduled(t);
      if (now !== prev) edges++;
      prev = now;
    }
    assert.equal(edges, 2);
  });

  it('DST fall back (Europe/London, 2026-10-25): the repeated hour is judged by its wall-clock time', () => {
    const s = new Schedule('22:00', '01:30', 'Europe/London');
    assert.equal(s.isScheduled(at('2026-10-25T00:30:00Z')), true); // 01:30 BST
    assert.equal(s.isScheduled(at('2026-10-25T00:31:00Z')), false); // 01:31 BST
    assert.equal(s.isScheduled(at('2026-10-25T01:00:00Z')), true); // 01:00 GMT (again)
    assert.equal(s.isScheduled(at('2026-10-25T01:30:59Z')), true); // 01:30 GMT
    assert.equal(s.isScheduled(at('2026-10-25T01:31:00Z')), false);
    assert.equal(s.isScheduled(at('2026-10-25T21:59:00Z')), false); // 21:59 GMT
    assert.equal(s.isScheduled(at('2026-10-25T22:00:00Z')), true); // 22:00 GMT
  });

  it('validates times with the reference wording', () => {
    assert.deepEqual(parseTime('24:00', 'start'), { msg: 'The start hour must be between 0 and 23', type: 'value_error' });
    assert.deepEqual(parseTime('25:00', 'end'), { msg: 'The end hour must be between 0 and 23', type: 'value_error' });
    assert.deepEqual(parseTime('10:60', 'end'), { msg: 'The minute value must be between 0 and 59', type: 'value_error' });
    assert.deepEqual(parseTime('7:5', 'start'), { time: { hour: 7, minute: 5 } });
    assert.ok('msg' in parseTime('10', 'start'));
    assert.ok('msg' in parseTime(1000, 'start'));
    assert.deepEqual(Schedule.errors('19:00', '99:00', 'Bad/Zone', ['alerting']), [
      { loc: ['alerting', 'end_time'], msg: 'The end hour must be between 0 and 23', type: 'value_error' },
      { loc: ['alerting', 'timezone'], msg: 'Unknown timezone "Bad/Zone"', type: 'value_error' },
    ]);
  });
});
