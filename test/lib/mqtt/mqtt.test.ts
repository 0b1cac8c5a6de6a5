import assert from 'node:assert/strict';
import { Central } from '../../../lib/mqtt/central';
import { alarmConfigs, haloEventConfig, haloSensorConfig, objectId } from '../../../lib/mqtt/discovery';
import { SitePublisher } from '../../../lib/mqtt/site';
import { parseTopic, segment, topics } from '../../../lib/mqtt/topics';
import { validateDiscovery } from '../../helpers/ha-discovery';

const ev = (kind: 'set' | 'reset', event: string, extra: Record<string, unknown> = {}) => ({ payload: { device: 'Hall-2F', event, active: kind === 'set', kind, receivedAt: 1, remote: '10.0.0.9:5000', tokens: {}, ...extra } });

describe('mqtt topics', () => {
  it('builds and parses the scheme; names cannot escape their segment', () => {
    assert.equal(topics.haloEvent('north', 'Hall/2F', 'Vape'), 'vigil/north/halo/Hall_2F/Vape');
    assert.equal(topics.online('a+b'), 'vigil/a_b/online');
    // an event called "state" cannot land on the device's retained state topic
    assert.equal(topics.haloEvent('north', 'Hall', 'state'), 'vigil/north/halo/Hall/_state');
    assert.deepEqual(parseTopic(topics.haloEvent('n', 'd', 'state')), { kind: 'halo-event', site: 'n', device: 'd', event: '_state' });
    assert.equal(segment('#'), '_');
    assert.equal(segment(''), '_');
    assert.equal(segment('$SYS'), '_SYS');
    assert.equal(segment('x'.repeat(500)).length, 64);
    assert.deepEqual(parseTopic('vigil/n/halo/d/state'), { kind: 'halo-state', site: 'n', device: 'd' });
    assert.deepEqual(parseTopic('vigil/n/halo/d/Vape'), { kind: 'halo-event', site: 'n', device: 'd', event: 'Vape' });
    assert.deepEqual(parseTopic('vigil/n/alarm/cam/status'), { kind: 'alarm-status', site: 'n', system: 'cam' });
    assert.deepEqual(parseTopic('vigil/n/online'), { kind: 'online', site: 'n' });
    for (const t of ['vigil', 'vigil//online', 'other/n/online', 'vigil/n/halo/d', 'vigil/n/alarm/c/x', 42, 'vigil/' + 'a/'.repeat(500)]) assert.equal(parseTopic(t), undefined);
  });
});

describe('mqtt site publisher', () => {
  const site = () => new SitePublisher({ site: 'north', system: 'cam1', discovery: true, discoveryPrefix: 'homeassistant', silenceS: 600 });

  it('a HALO set: discovery first, the event (QoS 1, not retained), then the retained state', () => {
    const p = site();
    const r = p.ingest(ev('set', 'Vape', { value: 12 }), 1000);
    assert.equal(r.kind, 'halo-event');
    assert.deepEqual(r.out.map((o) => [o.topic.split('/').slice(0, 2).join('/'), o.retain]), [['homeassistant/binary_sensor', true], ['vigil/north', false], ['vigil/north', true]]);
    assert.equal(r.out[1].topic, 'vigil/north/halo/Hall-2F/Vape');
    assert.equal(r.out[1].qos, 1);
    assert.deepEqual(r.out[2].payload, { device: 'Hall-2F', online: true, active: ['Vape'], values: { Vape: 12 }, sensors: {}, lastSeen: 1000 });
    validateDiscovery(r.out[0]);
    // the reset: no second discovery, state without the event
    const r2 = p.ingest(ev('reset', 'Vape'), 2000);
    assert.equal(r2.out.length, 2);
    assert.deepEqual((r2.out[1].payload as { active: string[] }).active, []);
  });

  it('heartbeats announce every event and reading once, with units and classes Home Assistant accepts', () => {
    const p = site();
    const hb = { payload: { device: 'Hall-2F', kind: 'heartbeat', online: true, active: ['Motion'], events: { Vape: 0, Motion: 60, "Bad'name": 1 }, sensors: { C: 21.5, RH: 40, 'PM2.5': 3, TVOC: 80, Noise: 42, 'P-hPa': 1013, Lux: 200, Weird: 1, NO2: 4 } } };
    const r = p.ingest(hb, 5);
    const disc = r.out.filter((o) => o.topic.startsWith('homeassistant/'));
    assert.equal(disc.length, 2 + 9, "events Vape and Motion (Bad'name cannot sit in a template) and nine readings");
    disc.forEach(validateDiscovery);
    const temp = disc.find((o) => (o.payload as { name: string }).name === 'C')!.payload as Record<string, unknown>;
    assert.equal(temp.unit_of_measurement, '°C');
    assert.equal(temp.device_class, 'temperature');
    assert.equal(temp.value_template, "{{ value_json.sensors['C'] }}");
    assert.equal(p.ingest(hb, 6).out.length, 1, 'only the state the second time');
  });

  it('a watchdog message updates online in the retained state', () => {
    const p = site();
    p.ingest(ev('set', 'Vape'), 1);
    const r = p.ingest({ payload: { device: 'Hall-2F', online: false, lastSeen: 1 } }, 200_000);
    assert.equal(r.kind, 'halo-online');
    assert.equal((r.out[0].payload as { online: boolean }).online, false);
  });

  it('alarm status: retained, published on change only, with discovery of a state sensor and two buttons', () => {
    const p = site();
    const st = (state: string, t: number) => ({ topic: 'status', payload: { timeStamp: t, state, initialAlarm: 0, silencedTill: null } });
    const r = p.ingest(st('on', 1), 1);
    assert.equal(r.out.length, 4);
    r.out.slice(0, 3).forEach(validateDiscovery);
    const buttons = r.out.filter((o) => o.topic.startsWith('homeassistant/button/')).map((o) => o.payload as Record<string, string>);
    assert.deepEqual(buttons.map((b) => JSON.parse(b.payload_press).command), ['silence', 'test']);
    assert.equal(buttons[0].command_topic, 'vigil/north/alarm/cam1/command');
    assert.deepEqual(r.out[3], { topic: 'vigil/north/alarm/cam1/status', payload: { timeStamp: 1, state: 'on', initialAlarm: 0, silencedTill: null }, qos: 1, retain: true });
    assert.equal(p.ingest(st('on', 2), 2).out.length, 0, 'same state a second later: nothing');
    assert.equal(p.ingest(st('alarm', 3), 3).out.length, 1);
    assert.equal(p.ingest({ ...st('off', 4), system: 'cam2' }, 4).out.at(-1)!.topic, 'vigil/north/alarm/cam2/status');
  });

  it('commands from the broker: silence and test only, bounded, for this site only', () => {
    const p = site();
    const t = 'vigil/north/alarm/cam1/command';
    assert.deepEqual(p.ingest({ topic: t, payload: Buffer.from('{"command":"silence","data":{"silenceFor":600}}') }, 1).command, { command: 'silence', data: { silenceFor: 600 } });
    assert.deepEqual(p.ingest({ topic: t, payload: { command: 'test' } }, 1).command, { command: 'test', data: {} });
    assert.match(p.ingest({ topic: t, payload: '{"command":"shutdown","data":{}}' }, 1).problem!, /only silence and test/);
    assert.match(p.ingest({ topic: t, payload: '['.repeat(10_000) }, 1).problem!, /refused/);
    assert.match(p.ingest({ topic: 'vigil/south/alarm/cam1/command', payload: '{"command":"test"}' }, 1).problem!, /another site/);
  });

  it('refuses what is not Vigil, too deep, and caps devices', () => {
    const p = new SitePublisher({ site: 's', system: 'a', discovery: false, discoveryPrefix: 'homeassistant', silenceS: 60, maxDevices: 2 });
    assert.match(p.ingest({ payload: 'hello' }, 1).problem!, /not a Vigil message/);
    assert.match(p.ingest({ payload: { device: 'x', kind: 'unknown' } }, 1).problem!, /unknown/);
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    assert.match(p.ingest({ payload: { device: 'x', kind: 'set', event: 'e', tokens: deep } }, 1).problem!, /too deeply/);
    p.ingest({ payload: { device: 'a', kind: 'set', event: 'e' } }, 1);
    p.ingest({ payload: { device: 'b', kind: 'set', event: 'e' } }, 1);
    const r = p.ingest({ payload: { device: 'c', kind: 'set', event: 'e' } }, 1);
    assert.equal(r.out.length, 1, 'the event still goes out');
    assert.match(r.problem!, /more than 2 HALO devices/);
  });

  it("vigil-alarm's command replies publish nothing; a refused one is a problem", () => {
    const p = new SitePublisher({ site: 's', system: 'cam', discovery: false, discoveryPrefix: 'homeassistant', silenceS: 60 });
    assert.deepEqual(p.ingest({ topic: 'reply', payload: {} }, 1), { out: [], kind: 'alarm-reply', problem: undefined });
    assert.match(p.ingest({ topic: 'reply', payload: { error: [{ loc: ['data'] }] } }, 1).problem!, /refused a command/);
  });

  it('object ids are unique per raw name and Home Assistant-safe', () => {
    assert.notEqual(objectId('a', 'Hall-2F'), objectId('a', 'Hall_2F'));
    assert.match(objectId('Nörd Site', 'x/y'), /^vigil_[a-z0-9_]+$/);
    validateDiscovery(haloEventConfig('homeassistant', 's', 'd', 'Gunshot'));
    validateDiscovery(haloSensorConfig('homeassistant', 's', 'd', 'CO2cal'));
    alarmConfigs('homeassistant', 's', 'cam', 60).forEach(validateDiscovery);
  });
});

describe('mqtt central', () => {
  it('folds sites, devices, alarms and events into one overview; a last will marks a site and its devices offline', () => {
    const c = new Central();
    assert.equal(c.ingest('vigil/north/online', Buffer.from('true'), 1).changed, true);
    assert.equal(c.ingest('vigil/north/online', 'true', 2).changed, false);
    c.ingest('vigil/north/halo/Hall/state', JSON.stringify({ device: 'Hall', online: true, active: ['Vape'], sensors: { C: 20 }, lastSeen: 5 }), 5);
    const r = c.ingest('vigil/north/halo/Hall/Vape', JSON.stringify({ device: 'Hall', event: 'Vape', kind: 'set', value: 9 }), 6);
    assert.deepEqual(r.event && { site: r.event.site, event: r.event.event, active: r.event.active, value: r.event.value }, { site: 'north', event: 'Vape', active: true, value: 9 });
    c.ingest('vigil/south/alarm/cam/status', { timeStamp: 1, state: 'alarm', initialAlarm: 1, silencedTill: null }, 7);
    let o = c.snapshot();
    assert.deepEqual(Object.keys(o.sites).sort(), ['north', 'south']);
    assert.equal(o.alarms['south/cam'].state, 'alarm');
    assert.deepEqual(o.offline, { sites: [], devices: [] });
    assert.equal(c.ingest('vigil/north/online', 'false', 8).changed, true);
    o = c.snapshot();
    assert.deepEqual(o.offline, { sites: ['north'], devices: ['north/Hall'] });
  });

  it('hostile payloads are reported, never stored or thrown; maps are capped', () => {
    const c = new Central({ maxSites: 2, recentEvents: 3 });
    assert.match(c.ingest('vigil/a/halo/d/state', '['.repeat(100_000), 1).problem!, /nested too deeply/);
    assert.match(c.ingest('not/vigil', '{}', 1).problem!, /not a Vigil topic/);
    assert.match(c.ingest('vigil/a/online', 'maybe', 1).problem!, /not valid JSON/);
    assert.match(c.ingest('vigil/a/online', '1', 1).problem!, /not true\/false/);
    c.ingest('vigil/a/online', 'true', 1);
    c.ingest('vigil/b/online', 'true', 1);
    assert.match(c.ingest('vigil/c/online', 'true', 1).problem!, /more than 2 sites/);
    for (let i = 0; i < 10; i++) c.ingest(`vigil/a/halo/d/E${i}`, '{"kind":"set"}', i);
    assert.deepEqual(c.snapshot().events.map((e) => e.event), ['E7', 'E8', 'E9']);
  });
});
