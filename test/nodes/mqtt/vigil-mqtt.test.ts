/**
 * vigil-mqtt in Node-RED (node-red-node-test-helper), on a FakeClock injected through the
 * `vigilClock` runtime setting. Site role: HALO events / heartbeats / watchdog and a real
 * vigil-alarm's status in → messages for core `mqtt out` (topic, QoS, retain) and Home
 * Assistant discovery configs out; a command from the command topic → output 2 → the real
 * vigil-alarm, whose reply and new status come back; retained topics again every refreshS.
 * Central role: the overview at most once a second (trailing edge), events as they come.
 * Hostile input from `mqtt in`: deep and huge payloads, forbidden commands — warnings, rate-limited.
 */
import assert from 'node:assert/strict';
import { FakeClock } from '../../../lib/common/clock';
import type { Outgoing } from '../../../lib/mqtt/site';
import { validateDiscovery } from '../../helpers/ha-discovery';
import { calls, collect, eachTestOnFakeClock, helper, nodeModule, settle, until } from '../../helpers/nodered';

const mqttModule = nodeModule('vigil-mqtt');
const alarmModule = nodeModule('vigil-alarm');

type Msg = { topic?: string; payload: unknown; qos?: number; retain?: boolean };
const T0 = Date.parse('2026-06-01T12:00:00Z');
const alwaysOn = { startTime: '00:00', endTime: '00:00', timezone: 'UTC' };

const haloEvent = (kind: 'set' | 'reset', event: string, value: number) => ({ payload: { device: 'Hall-2F', event, active: kind === 'set', kind, value, receivedAt: T0, remote: '10.0.0.9:5000', tokens: {} } });

describe('vigil-mqtt node', function () {
  let clock: FakeClock;
  eachTestOnFakeClock(T0, (c) => (clock = c));

  describe('site', () => {
    const flow = [
      { id: 'm', type: 'vigil-mqtt', role: 'site', site: 'north', system: 'cam', discovery: true, discoveryPrefix: 'homeassistant', silenceS: 600, refreshS: 30, wires: [['pub'], ['al']] },
      { id: 'al', type: 'vigil-alarm', ...alwaysOn, alertTimeS: 180, minMovementS: 10, alarmHysteresisS: 60, initialAlarmDurationM: 30, wires: [['m', 'st'], ['alerts']] },
      { id: 'pub', type: 'helper' },
      { id: 'st', type: 'helper' },
      { id: 'alerts', type: 'helper' },
    ];

    it('events, heartbeats, watchdog and alarm status out with topic/qos/retain; discovery once; commands reach a real vigil-alarm; refreshS republishes', async () => {
      await helper.load([mqttModule, alarmModule], flow);
      const pub = collect<Msg>('pub');
      const st = collect<Msg>('st');
      const m = helper.getNode('m');
      const warns = calls(m, 'warn');

      // The alarm starts: its first status → three discovery configs + the retained status.
      clock.advance(0);
      await until(() => pub.length >= 4, 'alarm status published');
      assert.deepEqual(
        pub.map((o) => o.topic!.replace(/\/vigil_[a-z0-9_]+\//, '/<id>/')),
        ['homeassistant/sensor/<id>/config', 'homeassistant/button/<id>/config', 'homeassistant/button/<id>/config', 'vigil/north/alarm/cam/status'],
      );
      for (const o of pub.slice(0, 3)) validateDiscovery(o as Outgoing);
      const status = pub[3];
      assert.equal(status.qos, 1);
      assert.equal(status.retain, true);
      assert.equal((status.payload as { state: string }).state, 'on');
      // Unchanged statuses (the alarm's 1 Hz tick) are not published again.
      clock.advance(3000);
      await settle();
      assert.equal(pub.length, 4, 'no republish of an unchanged status');

      // A HALO event: discovery (first time), the event (QoS 1, not retained), the device state (retained).
      pub.length = 0;
      m.receive(haloEvent('set', 'Vape', 7) as never);
      await until(() => pub.length === 3, 'event published');
      validateDiscovery(pub[0] as Outgoing);
      assert.match(pub[0].topic!, /^homeassistant\/binary_sensor\/.+\/config$/);
      assert.deepEqual([pub[1].topic, pub[1].qos, pub[1].retain], ['vigil/north/halo/Hall-2F/Vape', 1, false]);
      assert.deepEqual([pub[2].topic, pub[2].qos, pub[2].retain], ['vigil/north/halo/Hall-2F/state', 1, true]);
      assert.deepEqual((pub[2].payload as { active: string[] }).active, ['Vape']);
      pub.length = 0;
      m.receive(haloEvent('reset', 'Vape', 0) as never);
      await until(() => pub.length === 2, 'reset published, no second discovery');
      assert.deepEqual((pub[1].payload as { active: string[] }).active, []);

      // A heartbeat with readings: a sensor config per reading, then the state.
      pub.length = 0;
      m.receive({ topic: 'heartbeat', payload: { device: 'Hall-2F', kind: 'heartbeat', active: [], events: { Vape: 0 }, sensors: { Temp_C: 21.5, Humidity: 40 } } } as never);
      await until(() => pub.length >= 3, 'heartbeat published');
      const sensorConfigs = pub.filter((o) => o.topic!.startsWith('homeassistant/sensor/'));
      assert.equal(sensorConfigs.length, 2);
      sensorConfigs.forEach((o) => validateDiscovery(o as Outgoing));
      assert.deepEqual((pub.at(-1)!.payload as { sensors: Record<string, number> }).sensors, { Temp_C: 21.5, Humidity: 40 });

      // The watchdog says the device went quiet: the retained state says offline.
      pub.length = 0;
      m.receive({ payload: { device: 'Hall-2F', online: false } } as never);
      await until(() => pub.length === 1, 'offline state published');
      assert.deepEqual([pub[0].topic, pub[0].retain, (pub[0].payload as { online: boolean }).online], ['vigil/north/halo/Hall-2F/state', true, false]);

      // Home Assistant's Silence button → command topic → output 2 → vigil-alarm: it replies and goes silenced.
      pub.length = 0;
      st.length = 0;
      m.receive({ topic: 'vigil/north/alarm/cam/command', payload: JSON.stringify({ command: 'silence', data: { silenceFor: 600 } }) } as never);
      await until(() => st.some((x) => x.topic === 'reply'), 'the alarm replies');
      const reply = st.find((x) => x.topic === 'reply')!;
      assert.equal((reply.payload as { error?: unknown }).error, undefined, JSON.stringify(reply.payload));
      clock.advance(1000);
      await until(() => pub.some((o) => o.topic === 'vigil/north/alarm/cam/status'), 'the new status published');
      const silenced = pub.find((o) => o.topic === 'vigil/north/alarm/cam/status')!.payload as { state: string; silencedTill: number };
      assert.equal(silenced.state, 'silenced');
      assert.equal(silenced.silencedTill, (clock.now() - 1000) / 1000 + 600);

      // Only silence and test come through a broker; another site's command is not ours.
      st.length = 0;
      m.receive({ topic: 'vigil/north/alarm/cam/command', payload: '{"command":"shutdown","data":{"shutdownIn":1}}' } as never);
      m.receive({ topic: 'vigil/south/alarm/cam/command', payload: '{"command":"test","data":{}}' } as never);
      await until(() => warns.length >= 2, 'two warnings');
      assert.match(String(warns[0].args[0]), /only silence and test/);
      assert.match(String(warns[1].args[0]), /another site/);
      await settle();
      assert.equal(st.filter((x) => x.topic === 'reply').length, 0, 'nothing reached the alarm');

      // Every refreshS the retained topics go out again (what mqtt out dropped while the broker was away).
      pub.length = 0;
      clock.advance(30_000 - (clock.now() - T0) % 30_000);
      await until(() => pub.length >= 6, 'retained republish');
      const again = pub.map((o) => o.topic!);
      for (const t of ['vigil/north/alarm/cam/status', 'vigil/north/halo/Hall-2F/state']) assert.ok(again.includes(t), t);
      assert.equal(again.filter((t) => t.startsWith('homeassistant/')).length, 3 + 1 + 2, 'every discovery config too');
      assert.ok(pub.every((o) => o.retain === true), 'only retained topics are republished');
      assert.ok(!again.includes('vigil/north/halo/Hall-2F/Vape'), 'events are not republished');
    });

    it('hostile input from mqtt in: deep and huge command payloads are refused with rate-limited warnings', async () => {
      await helper.load([mqttModule, alarmModule], flow);
      const m = helper.getNode('m');
      const st = collect<Msg>('st');
      const warns = calls(m, 'warn');
      let deep: unknown = { command: 'silence' };
      for (let i = 0; i < 10_000; i++) deep = { data: deep };
      m.receive({ topic: 'vigil/north/alarm/cam/command', payload: '{"a":'.repeat(50_000) } as never);
      m.receive({ topic: 'vigil/north/alarm/cam/command', payload: deep } as never);
      m.receive({ topic: 'vigil/north/alarm/cam/command', payload: Buffer.alloc(5 * 1024 * 1024, 0x20) } as never);
      m.receive({ payload: { device: 'x', kind: 'set', event: 'e', tokens: deep } } as never);
      for (let i = 0; i < 50; i++) m.receive({ topic: 'vigil/north/alarm/cam/command', payload: 'not json' } as never);
      await until(() => warns.length >= 4, 'warnings');
      await settle(20);
      assert.match(String(warns[0].args[0]), /command refused/);
      assert.ok(warns.length <= 12, `rate-limited: ${warns.length} warnings for 54 bad messages`);
      assert.equal(st.filter((x) => x.topic === 'reply').length, 0, 'nothing reached the alarm');
    });
  });

  describe('central', () => {
    const flow = [
      { id: 'c', type: 'vigil-mqtt', role: 'central', wires: [['ov'], ['evs']] },
      { id: 'ov', type: 'helper' },
      { id: 'evs', type: 'helper' },
    ];
    type Overview = { sites: Record<string, { online: boolean }>; alarms: Record<string, { state: string }>; events: unknown[]; offline: { sites: string[]; devices: string[] } };

    it('one overview at most every second, the last change never lost; events as they arrive', async () => {
      await helper.load([mqttModule], flow);
      const ov = collect<Msg>('ov');
      const evs = collect<Msg>('evs');
      const c = helper.getNode('c');
      c.receive({ topic: 'vigil/a/online', payload: 'true' } as never);
      await until(() => ov.length === 1, 'first overview at once');
      c.receive({ topic: 'vigil/b/online', payload: 'true' } as never);
      c.receive({ topic: 'vigil/b/alarm/cam/status', payload: '{"timeStamp":1,"state":"alarm","initialAlarm":1,"silencedTill":null}' } as never);
      for (let i = 0; i < 5; i++) c.receive({ topic: 'vigil/a/halo/Hall/Vape', payload: JSON.stringify({ device: 'Hall', event: 'Vape', kind: i % 2 ? 'reset' : 'set', value: i }) } as never);
      await until(() => evs.length === 5, 'each event at once');
      assert.deepEqual(evs.map((e) => e.topic), Array(5).fill('a/Hall/Vape'));
      assert.equal((evs[0].payload as { site: string }).site, 'a');
      await settle();
      assert.equal(ov.length, 1, 'throttled within the second');
      clock.advance(999);
      await settle();
      assert.equal(ov.length, 1);
      clock.advance(1);
      await until(() => ov.length === 2, 'the trailing overview');
      const o = ov[1].payload as Overview;
      assert.deepEqual(Object.keys(o.sites).sort(), ['a', 'b']);
      assert.equal(o.alarms['b/cam'].state, 'alarm');
      assert.equal(o.events.length, 5);
      // The last will of site b: offline after the next second at the latest.
      c.receive({ topic: 'vigil/b/online', payload: Buffer.from('false') } as never);
      clock.advance(1000);
      await until(() => ov.length === 3, 'offline overview');
      assert.deepEqual((ov[2].payload as Overview).offline.sites, ['b']);
      clock.advance(10_000);
      await settle();
      assert.equal(ov.length, 3, 'nothing changed, nothing sent');
    });

    it('hostile payloads from mqtt in: warnings (rate-limited), never a crash or an overview', async () => {
      await helper.load([mqttModule], flow);
      const ov = collect<Msg>('ov');
      const c = helper.getNode('c');
      const warns = calls(c, 'warn');
      c.receive({ topic: 'vigil/a/halo/d/state', payload: '['.repeat(200_000) } as never);
      c.receive({ topic: 'vigil/a/halo/d/state', payload: Buffer.from(`{"x":"${'y'.repeat(1024 * 1024)}"}`) } as never);
      c.receive({ topic: 'vigil/a/online', payload: 'maybe' } as never);
      for (let i = 0; i < 100; i++) c.receive({ topic: `elsewhere/${i}`, payload: '{}' } as never);
      await until(() => warns.length >= 3, 'warnings');
      await settle(20);
      assert.ok(warns.length <= 10, `rate-limited: ${warns.length} warnings for 103 bad messages`);
      assert.match(String(warns[0].args[0]), /nested too deeply|too deep/);
      assert.equal(ov.length, 0, 'nothing bad became an overview');
    });
  });
});
