/**
 * Alarm engine throughput: one simulated day (and more) of 1 Hz activity pushed through
 * the sustained-motion rule and state machine on a FakeClock, for alert_time_s 180 and
 * 3600. The ring-buffer rule (MotionHistory) is compared with the baseline the reference
 * used: shift the history array and re-scan every window on each push
 * (`sustained(newestFirstArray)`), measured in the same run. Also reports how long a
 * schedule check (Intl, IANA timezone) takes. Bounded: a few seconds, no I/O.
 */
import { AlarmEngine, DEFAULT_ALARM_SETTINGS } from '../lib/alarm/alarm';
import { MotionHistory, sustained } from '../lib/alarm/rule';
import { Schedule } from '../lib/alarm/schedule';
import { FakeClock } from '../lib/common/clock';

function pattern(i: number): boolean {
  // bursts of motion with short pauses, and long quiet stretches
  return i % 600 < 400 && i % 7 !== 0;
}

function timeIt(fn: () => number): { ms: number; result: number } {
  const t = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, result };
}

export async function run(): Promise<void> {
  const seconds = 86400;
  for (const L of [180, 3600]) {
    const m = 10;
    const ring = timeIt(() => {
      const h = new MotionHistory(L, m);
      let trues = 0;
      for (let i = 0; i < seconds; i++) if (h.push(pattern(i))) trues++;
      return trues;
    });
    const baseline = timeIt(() => {
      const arr: number[] = new Array(L).fill(0);
      let trues = 0;
      for (let i = 0; i < seconds; i++) {
        arr.pop();
        arr.unshift(pattern(i) ? 1 : 0);
        if (sustained(arr, m)) trues++;
      }
      return trues;
    });
    if (ring.result !== baseline.result) throw new Error(`rule mismatch at L=${L}: ${ring.result} vs ${baseline.result}`);
    console.log(
      `sustained rule, L=${L} m=${m}, ${seconds} s of activity: ring ${ring.ms.toFixed(1)} ms (${((ring.ms * 1000) / seconds).toFixed(2)} µs/s)` +
        ` | baseline shift+rescan ${baseline.ms.toFixed(1)} ms (${((baseline.ms * 1000) / seconds).toFixed(2)} µs/s) | same verdicts: ${ring.result} true seconds`,
    );
  }

  const clock = new FakeClock(Date.parse('2026-06-01T00:00:00Z'));
  const engine = new AlarmEngine({ clock, settings: { ...DEFAULT_ALARM_SETTINGS, startTime: '19:00', endTime: '07:00', timezone: 'Europe/London' } });
  let statuses = 0;
  let alerts = 0;
  engine.on('status', () => statuses++);
  engine.on('alert', () => alerts++);
  engine.start();
  const day = timeIt(() => {
    for (let i = 0; i < seconds; i++) {
      clock.advance(1000);
      engine.activity(pattern(i));
    }
    return alerts;
  });
  engine.dispose();
  console.log(
    `alarm engine, one day at 1 Hz (schedule + rule + state machine + status): ${day.ms.toFixed(0)} ms total, ${((day.ms * 1000) / seconds).toFixed(2)} µs per simulated second; ${statuses} statuses, ${alerts} alerts`,
  );

  const sched = new Schedule('19:00', '07:00', 'Pacific/Auckland');
  const n = 100000;
  const t0 = Date.now();
  const check = timeIt(() => {
    let on = 0;
    for (let i = 0; i < n; i++) if (sched.isScheduled(t0 + i * 1000)) on++;
    return on;
  });
  const base = timeIt(() => {
    let on = 0;
    for (let i = 0; i < n; i++) {
      const d = new Date(t0 + i * 1000);
      const x = d.getUTCHours() * 60 + d.getUTCMinutes();
      if (x >= 19 * 60 || x <= 7 * 60) on++;
    }
    return on;
  });
  console.log(
    `schedule check (Intl, IANA zone): ${((check.ms * 1000) / n).toFixed(2)} µs each | baseline UTC-only Date arithmetic ${((base.ms * 1000) / n).toFixed(3)} µs each (${n} checks; the engine does one per second)`,
  );
}
