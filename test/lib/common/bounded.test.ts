import assert from 'node:assert/strict';
import { readJson, jsonLimitViolation, depthExceeds } from '../../../lib/common/json';
import { RateLimitedWarner } from '../../../lib/common/warn';
import { longTimeout, durationProblem, MAX_TIMER_MS, MAX_DURATION_MS } from '../../../lib/common/timer';
import { FakeClock } from '../../../lib/common/clock';

describe('common/json readJson', () => {
  it('parses ordinary JSON', () => {
    assert.deepEqual(readJson('{"a":[1,2,{"b":"c"}]}'), { ok: true, value: { a: [1, 2, { b: 'c' }] } });
    assert.deepEqual(readJson(Buffer.from('"x"')), { ok: true, value: 'x' });
  });
  it('refuses deep nesting before parsing, with the reason', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r = readJson(deep);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /nested too deeply/);
    assert.equal(readJson('[[[1]]]', { maxDepth: 3 }).ok, true);
    assert.equal(readJson('[[[[1]]]]', { maxDepth: 3 }).ok, false);
  });
  it('does not count brackets inside strings', () => {
    const text = JSON.stringify({ s: '['.repeat(1000) + '"\\' });
    assert.equal(readJson(text, { maxDepth: 2 }).ok, true);
  });
  it('refuses too many values, too long text and too long strings', () => {
    assert.match((readJson(JSON.stringify(new Array(20).fill(0)), { maxValues: 10 }) as { reason: string }).reason, /too many values/);
    assert.match((readJson('"' + 'a'.repeat(100) + '"', { maxLength: 50 }) as { reason: string }).reason, /too long/);
    assert.match((readJson('{"k":"' + 'a'.repeat(100) + '"}', { maxString: 50 }) as { reason: string }).reason, /string too long/);
  });
  it('returns syntax errors instead of throwing', () => {
    const r = readJson('{"a":');
    assert.equal(r.ok, false);
    assert.equal(jsonLimitViolation('{"a":'), undefined);
  });
  it('depthExceeds walks iteratively and stops early', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = [v];
    assert.equal(depthExceeds(v, 32), true);
    assert.equal(depthExceeds({ a: { b: [1] } }, 3), false);
    assert.equal(depthExceeds({ a: { b: [1] } }, 2), true);
    assert.equal(depthExceeds('flat', 0), false);
  });
});

describe('common/warn RateLimitedWarner', () => {
  it('writes the first burst, then one summary per window, never losing the count', () => {
    const clock = new FakeClock(0);
    const lines: string[] = [];
    const w = new RateLimitedWarner((l) => lines.push(l), { burst: 2, windowMs: 1000, clock });
    for (let i = 0; i < 10; i++) w.warn('refused', `refused #${i}`);
    assert.deepEqual(lines, ['refused #0', 'refused #1']);
    assert.equal(w.suppressed('refused'), 8);
    clock.advance(1000);
    assert.equal(lines.length, 3);
    assert.match(lines[2], /^8 more warning\(s\) like this in the last 1 s \(refused\); the last: refused #9$/);
    w.warn('refused', 'again');
    assert.equal(lines[3], 'again');
    assert.equal(clock.pending, 0);
  });
  it('keeps kinds apart, caps the number of kinds and flushes on dispose', () => {
    const clock = new FakeClock(0);
    const lines: string[] = [];
    const w = new RateLimitedWarner((l) => lines.push(l), { burst: 1, windowMs: 1000, maxKinds: 2, clock });
    w.warn('a', 'a1');
    w.warn('b', 'b1');
    w.warn('c', 'c1'); // third kind shares the '(other)' bucket
    w.warn('d', 'd1');
    assert.deepEqual(lines, ['a1', 'b1', 'c1']);
    w.dispose();
    assert.match(lines[3], /1 more warning\(s\).*\(\(other\)\).*d1/);
    assert.equal(clock.pending, 0);
  });
});

describe('common/timer longTimeout', () => {
  it('waits longer than 2^31 ms in hops on the clock', () => {
    const clock = new FakeClock(0);
    let fired = 0;
    const thirtyDays = 30 * 86_400_000;
    const t = longTimeout(clock, () => fired++, thirtyDays);
    assert.equal(t.dueAt, thirtyDays);
    clock.advance(MAX_TIMER_MS);
    assert.equal(fired, 0);
    clock.advance(thirtyDays - MAX_TIMER_MS - 1);
    assert.equal(fired, 0);
    clock.advance(1);
    assert.equal(fired, 1);
    assert.equal(clock.pending, 0);
  });
  it('never fires inside the call, and clear() stops it', () => {
    const clock = new FakeClock(0);
    let fired = 0;
    longTimeout(clock, () => fired++, 0);
    assert.equal(fired, 0);
    clock.advance(0);
    assert.equal(fired, 1);
    const t = longTimeout(clock, () => fired++, 5 * MAX_TIMER_MS);
    clock.advance(MAX_TIMER_MS + 5);
    t.clear();
    assert.equal(clock.pending, 0);
    clock.advance(10 * MAX_TIMER_MS);
    assert.equal(fired, 1);
  });
  it('durationProblem refuses what cannot be scheduled', () => {
    assert.equal(durationProblem(1000, 'silence'), undefined);
    assert.match(durationProblem(-1, 'silence')!, /negative/);
    assert.match(durationProblem(NaN, 'silence')!, /finite/);
    assert.match(durationProblem('5', 'silence')!, /finite/);
    assert.match(durationProblem(MAX_DURATION_MS + 1, 'silence')!, /366 days/);
  });
});
