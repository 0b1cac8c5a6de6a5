/**
 * lib/common/commands: command data validated once for the API, the hub, the alarm and wire
 * commands, with the reference's error objects; durations from outside bounded at 366 days.
 */
import assert from 'node:assert/strict';
import { FakeClock } from '../../../lib/common/clock';
import { MAX_TIMER_MS } from '../../../lib/common/timer';
import { MAX_DURATION_S, describeErrors, validateData } from '../../../lib/common/commands';
import { SystemHub } from '../../../lib/system/hub';

describe('lib/common/commands', () => {
  it('silenceFor and shutdownIn: 0 … 366 days, camelCase or snake_case; beyond: not_le in the reference shape', () => {
    assert.equal(MAX_DURATION_S, 31_622_400);
    assert.deepEqual(validateData('silence', { silence_for: MAX_DURATION_S }), { data: { silenceFor: MAX_DURATION_S } });
    assert.deepEqual(validateData('shutdown', { shutdownIn: '0' }), { data: { shutdownIn: 0 } });
    for (const [cmd, data, key] of [
      ['silence', { silenceFor: MAX_DURATION_S + 1 }, 'silenceFor'],
      ['silence', { silenceFor: '1e20' }, 'silenceFor'],
      ['shutdown', { shutdown_in: MAX_DURATION_S + 1 }, 'shutdown_in'],
    ] as const) {
      assert.deepEqual(validateData(cmd, data), { errors: [{ loc: ['data', key], msg: 'ensure this value is less than or equal to 31622400', type: 'value_error.number.not_le' }] });
    }
    assert.deepEqual(validateData('silence', { silenceFor: -1 }), { errors: [{ loc: ['data', 'silenceFor'], msg: 'ensure this value is greater than or equal to 0', type: 'value_error.number.not_ge' }] });
    assert.deepEqual(validateData('on', undefined), { data: {} });
    assert.equal(describeErrors([{ loc: ['data', 'x'], msg: 'm', type: 't' }]), 'data.x: m');
  });

  it('the hub schedules a 30-day shutdown as a chain of timers Node can hold, and shuts down then', async () => {
    const clock = new FakeClock(0);
    const hub = new SystemHub({ clock });
    const shut: unknown[] = [];
    hub.on('shutdown', (i) => shut.push(i));
    assert.deepEqual(await hub.command('shutdown', { shutdownIn: 30 * 86_400 }), { status: 'OK' });
    assert.ok(Math.max(...clock.dueIn()) <= MAX_TIMER_MS);
    clock.advance(29 * 86_400_000);
    assert.deepEqual(shut, []);
    clock.advance(86_400_000);
    assert.deepEqual(shut, [{ source: 'command' }]);
    hub.dispose();
    assert.equal(clock.pending, 0);
  });
});
