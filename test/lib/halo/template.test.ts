import assert from 'node:assert/strict';
import { parseActive, parseAllSensors, parseAllSensorsAt, parseAllSensorsNL, parseEvents, parseEventVals } from '../../../lib/halo/aggregates';
import { HaloDecoder, RECOMMENDED_TEMPLATES, type HaloEventData, type HaloHeartbeatData, type HaloUnknownData } from '../../../lib/halo/decode';
import { parseHttpString } from '../../../lib/halo/httpstring';
import { HaloSimState } from '../../../lib/halo/sim';
import { compileTemplate, expandTemplate, parseTemplate, TemplateError } from '../../../lib/halo/template';
import { AGGREGATE_TOKENS, AMPX_TOKENS, CREDENTIAL_TOKENS, DEVICE_TOKENS, EVENT_TOKENS, SENSOR_IDS } from '../../../lib/halo/tokens';
import { FakeClock } from '../../../lib/common/clock';

/** Example values per token (docs/halo.md §3.1 where it gives one). */
const SAMPLES: Record<string, string> = {
  NAME: 'Halo_Device',
  IP: '192.168.0.35',
  MAC: 'AABBCCDDEEFF',
  DATE: '11/23/2025',
  TIME: '5:41:08 PM',
  ADDR: '12 Main Street',
  WING: 'East',
  FLOOR: '2F',
  ROOM: '214',
  PRSCNT: '31',
  LON: '-122.42',
  LAT: '37.77',
  DESC: 'Hallway by the gym',
  FWVER: '2.15.0.13.477-3',
  EID: 'Vape',
  UID: 'u-1234',
  SOURCE: 'pmsensor/raw/2',
  OPERATOR: 'gte',
  THR: '5',
  VAL: '7.25',
  SIM: 'SIMULATED',
  BUTTON: 'Panic-1',
  RSSI: '-61',
  SIGSTRENG: '78',
  EVENTS: 'Health_Index=2,AQI=-1,Light=468!,Sound=48',
  EVENTVALS: 'Health_Index=2.1,AQI=-1,Light=468.17,Sound=48.8,CO=0.06',
  ACTIVE: 'Light,Vape',
  ALLSENSORS: 'C=19.4,F=67,RH=48.5,Lux=468.17',
  'ALLSENSORS@': 'C=@19.4@ F=@67@ RH=@48.5@',
  ALLSENSORSNL: 'C=19.4\nF=67\nRH=48.5',
  'AMPX:ALL': '001122334455=Amp1,001122334466=Amp2',
  'AMPX:DISCONNECTED': '001122334466=Amp2',
  'AMPX:ACTIVE': 'Amp1_Motion',
  PSWD: 's3cret-key',
  USER: 'integrator',
};

const ALL_TOKENS = [...DEVICE_TOKENS, ...EVENT_TOKENS, ...AGGREGATE_TOKENS, ...AMPX_TOKENS, ...CREDENTIAL_TOKENS];

describe('halo template engine', () => {
  it('has a sample for every documented token', () => {
    for (const t of ALL_TOKENS) assert.ok(SAMPLES[t] !== undefined, t);
  });

  it('round-trips every documented token alone (expand → match)', () => {
    for (const t of ALL_TOKENS) {
      const template = `{"v":"%${t}%"}\\n`;
      const text = expandTemplate(template, SAMPLES);
      assert.equal(text, `{"v":"${SAMPLES[t]}"}\n`);
      assert.deepEqual(compileTemplate(template).match(text), { [t]: SAMPLES[t] }, t);
    }
  });

  it('round-trips every %SENSOR:<id>% id', () => {
    for (const id of SENSOR_IDS) {
      const template = `${id}:%SENSOR:${id}%;`;
      const text = expandTemplate(template, { [`SENSOR:${id}`]: '12.5' });
      assert.equal(text, `${id}:12.5;`);
      assert.deepEqual(compileTemplate(template, { terminators: [';'] }).match(text.slice(0, -1)), { [`SENSOR:${id}`]: '12.5' });
    }
  });

  it('round-trips all tokens in one template', () => {
    const template = ALL_TOKENS.map((t) => `${t.toLowerCase()}=<%${t}%>`).join('|');
    const text = expandTemplate(template, SAMPLES);
    const m = compileTemplate(template).match(text);
    assert.ok(m);
    for (const t of ALL_TOKENS) assert.equal(m[t], SAMPLES[t], t);
  });

  it('round-trips tokens that touch (%IP%%MAC%, %DATE%%TIME%)', () => {
    const template = '%IP%%MAC%%VAL%';
    const text = expandTemplate(template, SAMPLES);
    assert.deepEqual(compileTemplate(template).match(text), { IP: SAMPLES.IP, MAC: SAMPLES.MAC, VAL: SAMPLES.VAL });
  });

  it('leaves unknown tokens and stray % literal, and escapes regex characters in literal text', () => {
    const template = 'CPU 50% (x.y*) %FOO% [%NAME%] %SENSOR:RH%%';
    const text = expandTemplate(template, { NAME: 'A', 'SENSOR:RH': '48.5' });
    assert.equal(text, 'CPU 50% (x.y*) %FOO% [A] 48.5%');
    const c = compileTemplate(template);
    assert.deepEqual(c.match(text), { NAME: 'A', 'SENSOR:RH': '48.5' });
    assert.equal(c.match('CPU 50% (xxy*) %FOO% [A] 48.5%'), undefined, '"." must be literal');
  });

  it('keeps a token without a value literal, as the HALO does with %UID%', () => {
    const text = expandTemplate('uid=%UID% eid=%EID%', { EID: 'Vape' });
    assert.equal(text, 'uid=%UID% eid=Vape');
    assert.deepEqual(compileTemplate('uid=%UID% eid=%EID%').match(text), { EID: 'Vape' });
  });

  it('decodes \\n, \\r, \\t, \\\\ and \\uXXXX escapes', () => {
    assert.deepEqual(parseTemplate('a\\nb\\r\\t\\\\\\u0041\\q'), [{ kind: 'text', text: 'a\nb\r\t\\A\\q' }]);
  });

  it('matches with or without the trailing newline / terminator', () => {
    const c = compileTemplate('halo.event.%EID%\\n');
    assert.deepEqual(c.match('halo.event.Vape'), { EID: 'Vape' });
    assert.deepEqual(c.match('halo.event.Vape\r\n'), { EID: 'Vape' });
    const g = compileTemplate('DeviceId=%NAME% %ALLSENSORS@%;', { terminators: [';'] });
    assert.deepEqual(g.match('DeviceId=Hall C=@19.4@ RH=@48.5@'), { NAME: 'Hall', 'ALLSENSORS@': 'C=@19.4@ RH=@48.5@' });
    assert.deepEqual(g.match('DeviceId=Hall C=@19.4@ RH=@48.5@;'), { NAME: 'Hall', 'ALLSENSORS@': 'C=@19.4@ RH=@48.5@' });
  });

  it('matches in linear time: hostile text full of separators cannot stall the event loop', () => {
    const c = compileTemplate(RECOMMENDED_TEMPLATES.set);
    const hostile = '{"type":"set","name":"' + '","mac":"","ip":"'.repeat(4000) + 'x';
    assert.equal(c.match(hostile), undefined);
    const ok = expandTemplate(RECOMMENDED_TEMPLATES.set, { NAME: 'a","mac":"b' });
    assert.equal(c.match(ok)?.NAME, 'a', 'a value ends at the first occurrence of the text after it');
  });

  it('refuses a free-text token touching the next one (no backtracking, no guess), with the way out', () => {
    assert.throws(() => compileTemplate('%DESC%%MAC%!'), (e: Error) => e instanceof TemplateError && /%DESC% is followed directly by %MAC%.*separator/.test(e.message));
    assert.throws(() => compileTemplate('%NAME%%EID%%SOURCE% %VAL%'), /%NAME% is followed directly by %EID%/);
    assert.throws(() => new HaloDecoder({ setTemplate: '%NAME%%EID% %VAL%' }), /^TemplateError: set string: %NAME% is followed/);
    // tokens with a fixed shape may still touch the next one
    assert.deepEqual(compileTemplate('%MAC%%DESC%!').match('AABBCCDDEEFFHall !'), { MAC: 'AABBCCDDEEFF', DESC: 'Hall ' });
  });

  it('does not match other text', () => {
    const c = compileTemplate('{ "device":"%NAME%", "event":"%EID%", "alarm":"yes" }');
    assert.equal(c.match('{ "device":"A", "event":"Vape", "alarm":"no" }'), undefined);
    assert.equal(c.match('garbage'), undefined);
  });
});

describe('halo aggregate tokens', () => {
  it('parses %EVENTS% with ! marks', () => {
    assert.deepEqual(parseEvents(SAMPLES.EVENTS), { events: { Health_Index: 2, AQI: -1, Light: 468, Sound: 48 }, active: ['Light'] });
  });
  it('parses %EVENTVALS%, %ACTIVE%, %ALLSENSORS%, %ALLSENSORS@%, %ALLSENSORSNL%', () => {
    assert.deepEqual(parseEventVals(SAMPLES.EVENTVALS), { Health_Index: 2.1, AQI: -1, Light: 468.17, Sound: 48.8, CO: 0.06 });
    assert.deepEqual(parseActive(SAMPLES.ACTIVE), ['Light', 'Vape']);
    assert.deepEqual(parseActive(''), []);
    const sensors = { C: 19.4, F: 67, RH: 48.5 };
    assert.deepEqual(parseAllSensors('C=19.4,F=67,RH=48.5'), sensors);
    assert.deepEqual(parseAllSensorsAt(SAMPLES['ALLSENSORS@']), sensors);
    assert.deepEqual(parseAllSensorsNL('C=19.4\r\nF=67\nRH=48.5'), sensors);
    assert.deepEqual(parseAllSensors('PM2.5=4.2,P-hPa=1013.2,AQIsrc=n/a'), { 'PM2.5': 4.2, 'P-hPa': 1013.2, AQIsrc: 'n/a' });
  });
  it('round-trips the simulator state through the aggregate tokens', () => {
    const st = new HaloSimState({}, new FakeClock(Date.UTC(2025, 10, 23, 17, 41, 8)));
    st.set('Light', 468.17);
    st.set('Vape');
    const v = st.tokenValues();
    const ev = parseEvents(v.EVENTS ?? '');
    assert.deepEqual(ev.active, ['Vape', 'Light']);
    assert.equal(parseEventVals(v.EVENTVALS ?? '').Light, 468.17);
    assert.deepEqual(parseActive(v.ACTIVE ?? ''), ['Vape', 'Light']);
    assert.deepEqual(parseAllSensors(v.ALLSENSORS ?? ''), st.sensors);
    assert.deepEqual(parseAllSensorsAt(v['ALLSENSORS@'] ?? ''), st.sensors);
    assert.deepEqual(parseAllSensorsNL(v.ALLSENSORSNL ?? ''), st.sensors);
  });
});

describe('halo decoder: real-world strings', () => {
  const st = new HaloSimState({ name: 'Hallway-2F', mac: '0011223344AA', ip: '10.1.2.3' }, new FakeClock(Date.UTC(2025, 10, 23, 17, 41, 8)));
  const vape = st.set('Vape', 7.5);
  assert.ok(vape);

  it('the vendor-guide JSON strings of docs/halo.md §3.4 (set / reset / heartbeat), by template and by well-known keys', () => {
    const set = '{ "device":"%NAME%", "event":"%EID%", "alarm":"yes" }';
    const reset = '{ "device":"%NAME%", "event":"%EID%", "alarm":"no" }';
    const hb = '{ "device":"%NAME%", "alive":"%DATE% %TIME%" }';
    const values = st.tokenValues(vape);
    for (const dec of [new HaloDecoder({ setTemplate: set, resetTemplate: reset, heartbeatTemplate: hb }), new HaloDecoder({ format: 'json' }), new HaloDecoder({})]) {
      const s = dec.decode(expandTemplate(set, values), '1.2.3.4') as HaloEventData;
      assert.equal(s.kind, 'set');
      assert.equal(s.device, 'Hallway-2F');
      assert.equal(s.event, 'Vape');
      assert.equal(s.active, true);
      const r = dec.decode(expandTemplate(reset, values), '1.2.3.4') as HaloEventData;
      assert.equal(r.kind, 'reset');
      assert.equal(r.active, false);
      const h = dec.decode(expandTemplate(hb, values), '1.2.3.4') as HaloHeartbeatData;
      assert.equal(h.kind, 'heartbeat');
      assert.equal(h.device, 'Hallway-2F');
      assert.equal(h.deviceTime, `${values.DATE} ${values.TIME}`);
    }
  });

  it('the recommended templates carry everything', () => {
    const dec = new HaloDecoder({ setTemplate: RECOMMENDED_TEMPLATES.set, resetTemplate: RECOMMENDED_TEMPLATES.reset, heartbeatTemplate: RECOMMENDED_TEMPLATES.heartbeat });
    const s = dec.decode(expandTemplate(RECOMMENDED_TEMPLATES.set, st.tokenValues(vape)), 'x') as HaloEventData;
    assert.deepEqual(
      { kind: s.kind, device: s.device, event: s.event, value: s.value, threshold: s.threshold, source: s.source, mac: s.mac, ip: s.ip, simulated: s.simulated },
      { kind: 'set', device: 'Hallway-2F', event: 'Vape', value: 7.5, threshold: 5, source: 'pmsensor/raw/2', mac: '0011223344AA', ip: '10.1.2.3', simulated: false },
    );
    const h = dec.decode(expandTemplate(RECOMMENDED_TEMPLATES.heartbeat, st.tokenValues()), 'x') as HaloHeartbeatData;
    assert.equal(h.kind, 'heartbeat');
    assert.deepEqual(h.active, ['Vape']);
    assert.equal(h.events.Vape, 7.5);
    assert.equal(h.sensors.RH, st.sensors.RH);
  });

  it('Avigilon style plain text (halo.event.%EID% / halo.reset.%EID%)', () => {
    const dec = new HaloDecoder({ format: 'template', setTemplate: 'halo.event.%EID%\\n', resetTemplate: 'halo.reset.%EID%\\n' });
    const s = dec.decode('halo.event.Vape', '10.0.0.9') as HaloEventData;
    assert.equal(s.kind, 'set');
    assert.equal(s.event, 'Vape');
    assert.equal(s.device, '10.0.0.9', 'falls back to the sender address');
    assert.equal(dec.decode('halo.reset.Vape', '10.0.0.9').kind, 'reset');
    assert.equal(dec.decode('something else', '10.0.0.9').kind, 'unknown');
  });

  it('Genetec style heartbeat (DeviceId=%NAME% %ALLSENSORS@%; with ; framing)', () => {
    const dec = new HaloDecoder({ heartbeatTemplate: 'DeviceId=%NAME% %ALLSENSORS@%;', terminators: [';'] });
    const text = expandTemplate('DeviceId=%NAME% %ALLSENSORS@%', st.tokenValues());
    const h = dec.decode(text, 'x') as HaloHeartbeatData;
    assert.equal(h.kind, 'heartbeat');
    assert.equal(h.device, 'Hallway-2F');
    assert.deepEqual(h.sensors, st.sensors);
  });

  it('Qumulex style JSON (Status "true" / "reset", Sensors object)', () => {
    const set = '{"Name":"%NAME%","MAC":"%MAC%","Event":"%EID%","Status":"true"}';
    const reset = '{"Name":"%NAME%","MAC":"%MAC%","Event":"%EID%","Status":"reset"}';
    const hb = '{"DeviceName":"%NAME%","Make":"IPVideo","Model":"HALO","MAC":"%MAC%","IP":"%IP%","Sensors":{"Temp":"%SENSOR:C%","Humidity":"%SENSOR:RH%","CO2":"%SENSOR:CO2cal%"}}';
    const byTemplate = new HaloDecoder({ setTemplate: set, resetTemplate: reset, heartbeatTemplate: hb });
    const byKeys = new HaloDecoder({ format: 'json' });
    for (const dec of [byTemplate, byKeys]) {
      assert.equal(dec.decode(expandTemplate(set, st.tokenValues(vape)), 'x').kind, 'set');
      assert.equal(dec.decode(expandTemplate(reset, st.tokenValues(vape)), 'x').kind, 'reset');
    }
    const h = byTemplate.decode(expandTemplate(hb, st.tokenValues()), 'x') as HaloHeartbeatData;
    assert.equal(h.kind, 'heartbeat');
    assert.deepEqual(h.sensors, { C: st.sensors.C, RH: st.sensors.RH, CO2cal: st.sensors.CO2cal });
    const hk = byKeys.decode(expandTemplate(hb, st.tokenValues()), 'x') as HaloHeartbeatData;
    assert.equal(hk.kind, 'heartbeat');
    assert.equal(hk.sensors.Temp, st.sensors.C);
  });

  it('OpenEye style HTTP string with [JSONBODY] (http transport matches the body)', () => {
    const tpl =
      'POST:https://%USER%:%PSWD%@10.0.0.5/api/halo[HEADER]X-Key:%PSWD%[JSONBODY]{"sensorName":"%NAME%","macAddress":"%MAC%","eventType":"%EID%","localEventDate":"%DATE%","localEventTime":"%TIME%"}';
    const hs = parseHttpString(tpl);
    assert.ok(hs);
    assert.equal(hs.method, 'POST');
    assert.equal(hs.url, 'https://%USER%:%PSWD%@10.0.0.5/api/halo');
    assert.deepEqual(hs.headers, [['X-Key', '%PSWD%']]);
    const body = expandTemplate(hs.body ?? '', st.tokenValues(vape));
    const dec = new HaloDecoder({ http: true, setTemplate: tpl });
    const s = dec.decode({ text: body, path: '/api/halo' }, 'x') as HaloEventData;
    assert.equal(s.kind, 'set');
    assert.equal(s.event, 'Vape');
    assert.equal(s.mac, '0011223344AA');
    assert.equal(s.deviceTime, `${st.tokenValues().DATE} ${st.tokenValues().TIME}`);
    // and by well-known keys without a template
    const k = new HaloDecoder({ format: 'json' }).decode(body, 'x') as HaloEventData;
    assert.equal(k.kind, 'set');
    assert.equal(k.device, 'Hallway-2F');
  });

  it('GET-style HTTP strings match the path and query', () => {
    const tpl = 'http://nodered:1880/halo?dev=%NAME%&evt=%EID%&state=set';
    const dec = new HaloDecoder({ http: true, setTemplate: tpl, resetTemplate: 'http://nodered:1880/halo?dev=%NAME%&evt=%EID%&state=reset' });
    const s = dec.decode({ text: '', path: '/halo?dev=Hall&evt=Vape&state=reset' }, 'x') as HaloEventData;
    assert.equal(s.kind, 'reset');
    assert.equal(s.device, 'Hall');
  });

  it('unknown for garbage, invalid JSON and JSON without HALO keys', () => {
    const dec = new HaloDecoder({});
    assert.equal(dec.decode('\u0001\u0002binary', 'x').kind, 'unknown');
    assert.equal(dec.decode('{"device":', 'x').kind, 'unknown');
    assert.equal(dec.decode('{"foo":1}', 'x').kind, 'unknown');
  });

  it('JSON with an event but a state word it does not know is unknown (with the reason), not a guessed "set"', () => {
    for (const dec of [new HaloDecoder({}), new HaloDecoder({ format: 'json' })]) {
      const u = dec.decode('{"device":"H","event":"Vape","alarm":"ended"}', 'x');
      assert.equal(u.kind, 'unknown');
      assert.equal(u.device, 'H');
      assert.match((u as HaloUnknownData).reason, /unrecognised state "ended" in "alarm"/);
      assert.deepEqual((u as HaloUnknownData).json, { device: 'H', event: 'Vape', alarm: 'ended' });
      assert.match((dec.decode('{"Name":"H","Event":"Vape","Status":2}', 'x') as HaloUnknownData).reason, /"2" in "status"/);
      assert.equal(dec.decode('{"device":"H","event":"Vape","type":"motion"}', 'x').kind, 'unknown');
      // known words still decide; an event without any state key still counts as set
      assert.equal(dec.decode('{"device":"H","event":"Vape","type":"motion","alarm":"no"}', 'x').kind, 'reset');
      assert.equal(dec.decode('{"device":"H","event":"Vape","alarm":""}', 'x').kind, 'set');
      assert.equal(dec.decode('{"device":"H","event":"Vape"}', 'x').kind, 'set');
      assert.equal(dec.decode('{"device":"H","event":"Vape","state":"Cleared"}', 'x').kind, 'reset');
    }
  });
});
