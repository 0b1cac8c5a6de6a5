/**
 * The monitoring schedule (docs/camera-alarm.md §4, with §12 #3 fixed): a daily window
 * `start`–`end` in local time of an IANA timezone, minute granularity, inclusive at both
 * ends. start < end is a same-day window, start > end crosses midnight, start == end is
 * always on.
 *
 * DST safety: the window is evaluated on the local wall-clock minute of each instant
 * (through `Intl`), never by adding 24 h to a computed instant, so a skipped hour (spring
 * forward) or a repeated hour (fall back) simply gives the answer for the wall-clock time
 * it is: a start time inside a skipped hour starts the window at the jump.
 */
import { valueError } from '../common/commands';
import type { ConfigError } from '../system/types';

export interface HourMinute {
  hour: number;
  minute: number;
}

/** The host's timezone (IANA name), e.g. "Pacific/Auckland"; "UTC" if unknown. */
export function hostTimezone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Whether `tz` is an IANA timezone `Intl` knows. */
export function isValidTimezone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || tz.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parse "H:M" / "HH:MM" as docs/camera-alarm.md §1.2 says (split on ":" into two integers), with its
 * messages ("The start hour must be between 0 and 23", naming the right field).
 * `field` is "start" or "end"; errors are relative (loc filled in by the caller).
 */
export function parseTime(value: unknown, field: 'start' | 'end'): { time: HourMinute } | { msg: string; type: string } {
  if (typeof value !== 'string') return { msg: 'str type expected', type: 'type_error.str' };
  const parts = value.split(':');
  if (parts.length !== 2 || !parts.every((p) => /^\s*\d{1,2}\s*$/.test(p))) {
    return { msg: `The ${field} time must be "HH:MM"`, type: 'value_error' };
  }
  const hour = Number(parts[0]);
  const minute = Number(parts[1]);
  if (hour < 0 || hour > 23) return { msg: `The ${field} hour must be between 0 and 23`, type: 'value_error' };
  if (minute < 0 || minute > 59) return { msg: 'The minute value must be between 0 and 59', type: 'value_error' };
  return { time: { hour, minute } };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local wall-clock hour and minute of `ms` in `tz`. */
export function localHourMinute(ms: number, tz: string): HourMinute {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(tz, f);
  }
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(new Date(ms))) {
    if (p.type === 'hour') hour = Number(p.value) % 24;
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { hour, minute };
}

/** "HH:MM:SS" wall-clock time of `ms` in `tz` (e.g. the end of a silence, shown in the schedule's zone). */
export function localTimeOfDay(ms: number, tz: string): string {
  const key = `${tz}\u0000s`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formatters.set(key, f);
  }
  const parts = f.formatToParts(new Date(ms));
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '00';
  return `${String(Number(part('hour')) % 24).padStart(2, '0')}:${part('minute')}:${part('second')}`;
}

/** Whether minute-of-day `t` is inside the window (inclusive ends; start == end always on). */
export function inWindow(t: HourMinute, start: HourMinute, end: HourMinute): boolean {
  const x = t.hour * 60 + t.minute;
  const s = start.hour * 60 + start.minute;
  const e = end.hour * 60 + end.minute;
  if (s === e) return true;
  if (s < e) return x >= s && x <= e;
  return x >= s || x <= e;
}

export class Schedule {
  readonly start: HourMinute;
  readonly end: HourMinute;
  readonly timezone: string;

  /** Throws RangeError on a bad time or timezone (validate first with `Schedule.errors`). */
  constructor(start: string, end: string, timezone: string = hostTimezone()) {
    const s = parseTime(start, 'start');
    const e = parseTime(end, 'end');
    if ('msg' in s) throw new RangeError(s.msg);
    if ('msg' in e) throw new RangeError(e.msg);
    if (!isValidTimezone(timezone)) throw new RangeError(`Unknown timezone "${String(timezone)}"`);
    this.start = s.time;
    this.end = e.time;
    this.timezone = timezone;
  }

  /** Errors for schedule settings, loc under `prefix` (e.g. ["alerting"]). */
  static errors(start: unknown, end: unknown, timezone: unknown, prefix: Array<string | number>): ConfigError[] {
    const errors: ConfigError[] = [];
    const s = parseTime(start, 'start');
    if ('msg' in s) errors.push(valueError([...prefix, 'start_time'], s.msg, s.type));
    const e = parseTime(end, 'end');
    if ('msg' in e) errors.push(valueError([...prefix, 'end_time'], e.msg, e.type));
    if (timezone !== undefined && timezone !== '' && !isValidTimezone(timezone)) {
      errors.push(valueError([...prefix, 'timezone'], `Unknown timezone "${String(timezone)}"`));
    }
    return errors;
  }

  /** Whether monitoring is scheduled at instant `ms` (epoch ms). */
  isScheduled(ms: number): boolean {
    return inWindow(localHourMinute(ms, this.timezone), this.start, this.end);
  }

  get alwaysOn(): boolean {
    return this.start.hour === this.end.hour && this.start.minute === this.end.minute;
  }
}
