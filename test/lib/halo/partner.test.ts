/**
 * Partner payloads (issue #13): JSON mapped by well-known keys at any depth of a bounded walk
 * — flat camelCase objects and nested ones (event and device in sub-objects beside a status
 * word), shallowest candidate first; unrecognised shapes are `unknown` with the reason; deep or
 * huge JSON is refused by the bounded reader before it is walked (issue #11 item 1). And the
 * HTTP credentials check (HTTP Basic, constant-time; `user`/`pswd` query parameters stripped).
 */
import assert from 'node:assert/strict';
import { FakeClock } from '../../../lib/common/clock';
import { fromJson, HaloDecoder, JSON_WALK_LIMITS, type HaloEventData, type HaloUnknownData } from '../../../lib/halo/decode';
import { HaloCredentials, splitCredentials } from '../../../lib/halo/httpin';
import { HaloSimState, PARTNER_TEMPLATES } from '../../../lib/halo/sim';
import { expandTemplate } from '../../../lib/halo/template';

const st = new HaloSimState({ name: 'Lab-3', mac: '00AA11BB22CC', ip: '10.9.8.7' }, new FakeClock(Date.UTC(2026, 0, 5, 8, 30, 0)));
const gunshot = st.set('Gunshot', 42.5);
assert.ok(gunshot);

function decode(text: string): ReturnType<HaloDecoder['decode']> {
  return new HaloDecoder({}).decode(text, '192.0.2.1');
}

describe('halo decoder: partner JSON at any depth', () => {
  for (const shape of ['flat', 'nested'] as const) {
    it(`${shape} partner shape: set and reset with device, event, value, MAC and IP`, () => {
      for (const kind of ['set', 'reset'] as const) {
        const text = expandTemplate(PARTNER_TEMPLATES[shape][kind], st.tokenValues(gunshot));
        for (const dec of [new HaloDecoder({}), new HaloDecoder({ format: 'json' })]) {
          const d = dec.decode(text, '192.0.2.1') as HaloEventData;
          assert.equal(d.kind, kind, text);
          assert.equal(d.active, kind === 'set');
          assert.equal(d.device, 'Lab-3');
          assert.equal(d.event, 'Gunshot');
          assert.equal(d.value, 42.5);
          assert.equal(d.mac, '00AA11BB22CC');
          assert.equal(d.ip, '10.9.8.7');
        }
      }
    });
  }

  it('keys are case-insensitive and ignore _ and -; status words Set/Reset/Active/Cleared/Fired', () => {
    const cases: Array<[string, 'set' | 'reset']> = [
      ['{"SENSOR_NAME":"A","Event-Type":"Gunshot","STATUS":"Fired"}', 'set'],
      ['{"sensorname":"A","eventtype":"Gunshot","Status":"Active"}', 'set'],
      ['{"SensorName":"A","EventType":"Gunshot","Status":"Cleared"}', 'reset'],
      ['{"sensorName":"A","eventType":"Gunshot","status":"RESET"}', 'reset'],
      ['{"alert":{"name":"Gunshot","state":"set"},"sensor":{"id":"A"}}', 'set'],
    ];
    for (const [text, kind] of cases) {
      const d = decode(text) as HaloEventData;
      assert.equal(d.kind, kind, text);
      assert.equal(d.device, 'A', text);
      assert.equal(d.event, 'Gunshot', text);
    }
  });

  it('the shallowest candidate wins; device and event sub-objects give name/id/type their meaning', () => {
    const d = decode('{"name":"Top","device":{"name":"Inner"},"event":{"type":"Vape","name":"ignored-after-type"},"status":"Set"}') as HaloEventData;
    assert.equal(d.device, 'Top', 'depth 1 beats depth 2');
    assert.equal(d.event, 'Vape');
    const n = decode('{"meta":{"device":{"name":"Deep"}},"data":{"event":{"id":"Help"},"status":"Reset"}}') as HaloEventData;
    assert.equal(n.kind, 'reset');
    assert.equal(n.device, 'Deep');
    assert.equal(n.event, 'Help');
    // a name in an object of no known role does not name the device
    const o = decode('{"location":{"name":"Building A"},"event":"Vape","status":"Set"}') as HaloEventData;
    assert.equal(o.device, '192.0.2.1');
    // a device's own status word is not the event's state
    const s = decode('{"device":{"name":"D","status":"online"},"event":{"type":"Vape","status":"Set"}}') as HaloEventData;
    assert.equal(s.kind, 'set');
  });

  it('beyond the walk limits nothing is found, and the reason says how far it looked', () => {
    const deep = '{"a":{"b":{"c":{"d":{"event":"Vape","status":"Set","device":"X"}}}}}';
    const u = decode(deep) as HaloUnknownData;
    assert.equal(u.kind, 'unknown');
    assert.match(u.reason, new RegExp(`names no HALO event or heartbeat \\(looked at \\d+ key\\(s\\) to depth ${JSON_WALK_LIMITS.maxDepth}\\)`));
    const wide: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) wide[`k${i}`] = i;
    const w = fromJson({ ...wide, event: 'Vape' }, 'x') as HaloUnknownData;
    assert.equal(w.kind, 'unknown');
    assert.match(w.reason, /stopped at the limit of 256/);
  });

  it('an unrecognised nested shape is unknown with the reason, and keeps its (bounded) JSON', () => {
    const u = decode('{"report":{"items":{"x":1}},"meta":{"v":2}}') as HaloUnknownData;
    assert.equal(u.kind, 'unknown');
    assert.match(u.reason, /names no HALO event or heartbeat/);
    assert.deepEqual(u.json, { report: { items: { x: 1 } }, meta: { v: 2 } });
    const w = decode('{"event":{"type":"Vape"},"status":"exploded"}') as HaloUnknownData;
    assert.match(w.reason, /unrecognised state "exploded" in "status"/);
  });
});

describe('halo decoder: hostile JSON (issue #11 item 1)', () => {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
  for (const key of ['type', 'alarm', 'state', 'status', 'active', 'event', 'name', 'sim', 'value']) {
    it(`a deeply nested array in "${key}" is refused by the bounded reader, not stringified`, () => {
      const text = `{"device":"H","event":"Vape","${key}":${deep(5000)}}`;
      const u = decode(text) as HaloUnknownData;
      assert.equal(u.kind, 'unknown');
      assert.match(u.reason, /JSON nested too deeply \(more than 32 levels\)/);
      assert.equal(u.json, undefined, 'nothing deep leaves the decoder');
    });
  }

  it('containers within the limits in state keys and heartbeat lists never reach String()', () => {
    const d = decode(`{"device":"H","event":"Vape","alarm":${deep(20)}}`);
    assert.equal(d.kind, 'set', 'an event without a usable state word counts as set');
    const hb = decode(`{"type":"heartbeat","device":"H","active":["Vape",${deep(20)},3]}`);
    assert.equal(hb.kind, 'heartbeat');
    assert.deepEqual((hb as { active: string[] }).active, ['Vape', '3']);
    const sim = decode(`{"device":"H","event":"Vape","alarm":"yes","sim":${deep(20)}}`) as HaloEventData;
    assert.equal(sim.simulated, undefined, 'a container is not a sim flag');
  });
});

describe('halo-in HTTP credentials', () => {
  const creds = new HaloCredentials('key-1', 's3cr:et');
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  it('HTTP Basic: right passes (the URL unchanged), wrong or missing fails', () => {
    assert.equal(creds.check(basic('key-1', 's3cr:et'), '/halo?x=1'), '/halo?x=1');
    assert.equal(creds.check(basic('key-1', 'wrong'), '/halo'), undefined);
    assert.equal(creds.check(basic('key-2', 's3cr:et'), '/halo'), undefined);
    assert.equal(creds.check(undefined, '/halo'), undefined);
    assert.equal(creds.check('Bearer abc', '/halo'), undefined);
    assert.equal(creds.check('Basic !!!', '/halo'), undefined);
    assert.equal(creds.check(`Basic ${'A'.repeat(10_000)}`, '/halo'), undefined);
  });

  it('user/pswd in the query: accepted, and taken out of the URL so the secret never reaches a message', () => {
    assert.equal(creds.check(undefined, '/halo?dev=A&user=key-1&pswd=s3cr%3Aet&evt=Vape'), '/halo?dev=A&evt=Vape');
    assert.equal(creds.check(undefined, '/halo?user=key-1&pswd=nope'), undefined);
    // with Basic, the query parameters are still removed
    assert.equal(creds.check(basic('key-1', 's3cr:et'), '/halo?pswd=whatever'), '/halo');
    assert.deepEqual(splitCredentials('/p?a=1&user=u%20v&b=2'), { rest: '/p?a=1&b=2', user: 'u v', pass: undefined });
    assert.deepEqual(splitCredentials('/p'), { rest: '/p' });
  });

  it('no credentials configured: no check', () => {
    assert.equal(HaloCredentials.from('', ''), undefined);
    assert.equal(HaloCredentials.from(undefined, undefined), undefined);
    assert.ok(HaloCredentials.from('k', ''));
  });
});
