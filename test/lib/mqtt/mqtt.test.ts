import assert from 'node:assert/strict';
import { Central } from '../../../lib/mqtt/central';
import { alarmConfigs, haloEventConfig, haloSensorConfig, objectId } from '../../../lib/mqtt/discovery';
import { SitePublisher, type Outgoing } from '../../../lib/mqtt/site';
import { parseTopic, segment, topics } from '../../../lib/mqtt/topics';

/**
 * The fields Home Assistant's MQTT integration documents for each component we publish
 * (binary_sensor, sensor, button: the options we may use and the ones each requires), and its
 * device classes. A discovery payload with a key outside these, or a required one missing, is
 * rejected by Home Assistant with a log line — so it fails here.
 */
const COMMON = ['name', 'unique_id', 'device', 'availability', 'availability_mode', 'availability_topic', 'payload_available', 'payload_not_available', 'qos', 'icon', 'json_attributes_topic', 'json_attributes_template', 'enabled_by_default', 'entity_category', 'encoding', 'default_entity_id'];
const HA_FIELDS: Record<string, { allowed: string[]; required: string[]; classes: string[] }> = {
  binary_sensor: {
    allowed: [...COMMON, 'state_topic', 'value_template', 'payload_on', 'payload_off', 'device_class', 'expire_after', 'force_update', 'off_delay'],
    required: ['state_topic'],
    classes: ['battery', 'battery_charging', 'carbon_monoxide', 'cold', 'connectivity', 'door', 'garage_door', 'gas', 'heat', 'light', 'lock', 'moisture', 'motion', 'moving', 'occupancy', 'opening', 'plug', 'power', 'presence', 'problem', 'running', 'safety', 'smoke', 'sound', 'tamper', 'update', 'vibration', 'window'],
  },
  sensor: {
    allowed: [...COMMON, 'state_topic', 'value_template', 'unit_of_measurement', 'device_class', 'state_class', 'options', 'expire_after', 'force_update', 'suggested_display_precision', 'last_reset_value_template'],
    required: ['state_topic'],
    classes: ['aqi', 'atmospheric_pressure', 'carbon_dioxide', 'carbon_monoxide', 'enum', 'humidity', 'illuminance', 'pm1', 'pm10', 'pm25', 'pressure', 'sound_pressure', 'temperature', 'volatile_organic_compounds', 'volatile_organic_compounds_parts', 'nitrogen_dioxide'],
  },
  button: { allowed: [...COMMON, 'command_topic', 'command_template', 'payload_press', 'device_class', 'retain'], required: ['command_topic'], classes: ['identify', 'restart', 'update'] },
};
const DEVICE_FIELDS = ['identifiers', 'connections', 'name', 'manufacturer', 'model', 'model_id', 'sw_version', 'hw_version', 'serial_number', 'suggested_area', 'via_device', 'configuration_url'];
/** Units Home Assistant accepts for each sensor device class we use. */
const UNITS: Record<string, string[]> = {
  temperature: ['°C', '°F', 'K'],
  humidity: ['%'],
  illuminance: ['lx'],
  carbon_dioxide: ['ppm'],
  carbon_monoxide: ['ppm'],
  pm1: ['µg/m³'],
  pm25: ['µg/m³'],
  pm10: ['µg/m³'],
  volatile_organic_compounds_parts: ['ppm', 'ppb'],
  atmospheric_pressure: ['cbar', 'bar', 'hPa', 'mmHg', 'inHg', 'kPa', 'mbar', 'Pa', 'psi'],
  sound_pressure: ['dB', 'dBA'],
  aqi: [],
  enum: [],
};

export function validateDiscovery(o: Outgoing): void {
  const m = /^homeassistant\/(binary_sensor|sensor|button)\/([a-zA-Z0-9_-]+)\/config$/.exec(o.topic);
  assert.ok(m, `discovery topic ${o.topic}`);
  assert.equal(o.retain, true, 'discovery configs are retained');
  const spec = HA_FIELDS[m[1]];
  const p = o.payload as Record<string, unknown>;
  for (const k of Object.keys(p)) assert.ok(spec.allowed.includes(k), `${m[1]} does not document "${k}"`);
  for (const k of spec.required) assert.equal(typeof p[k], 'string', `${m[1]} needs ${k}`);
  assert.equal(p.unique_id, m[2], 'unique_id matches the topic id');
  if (p.device_class !== undefined) assert.ok(spec.classes.includes(String(p.device_class)), `${m[1]} device_class ${String(p.device_class)}`);
  if (m[1] === 'sensor' && p.device_class !== undefined && p.unit_of_measurement !== undefined) {
    assert.ok(UNITS[String(p.device_class)].includes(String(p.unit_of_measurement)), `unit ${String(p.unit_of_measurement)} for ${String(p.device_class)}`);
  }
  if (p.device_class === 'enum') assert.ok(Array.isArray(p.options) && p.unit_of_measurement === undefined && p.state_class === undefined);
  const dev = p.device as Record<string, unknown>;
  for (const k of Object.keys(dev)) assert.ok(DEVICE_FIELDS.includes(k), `device.${k}`);
  assert.ok(Array.isArray(dev.identifiers) && dev.identifiers.length > 0);
  for (const a of p.availability as Array<Record<string, unknown>>) {
    for (const k of Object.keys(a)) assert.ok(['topic', 'payload_available', 'payload_not_available', 'value_template'].includes(k), `availability.${k}`);
    assert.equal(typeof a.topic, 'string');
  }
}

const ev = (kind: 'set' | 'reset', event: string, extra: Record<string, unknown> = {}) => ({ payload: { device: 'Hall-2F', event, active: kind === 'set', kind, receivedAt: 1, remote: '10.0.0.9:5000', tokens: {}, ...extra } });

describe('mqtt topics', () => {
  it('builds and parses the scheme; names cannot escape their segment', () => {
    assert.equal(topics.haloEvent('north', 'Hall/2F', 'Vape'), 'vigil/north/halo/Hall_2F/Vape');
    assert.equal(topics.online('a+b'), 'vigil/a_b/online');
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
