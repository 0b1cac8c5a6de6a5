/**
 * vigil-system + vigil-alarm + vigil-telegram in Node-RED (node-red-node-test-helper), on a
 * FakeClock injected through the `vigilClock` runtime setting: sustained activity raises the
 * alarm after alertTimeS − minMovementS seconds, silence/unsilence, test alerts honouring
 * testGroup/excluded/enabled, config_update through the system, alerter re-enable at off→on,
 * and state restored after a restart with a file-backed context store.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FakeClock } from '../../../lib/common/clock';
import type { SystemHub } from '../../../lib/system/hub';
import type { AlarmStatus } from '../../../lib/system/types';
import { collect, coreNode, eachTestOnFakeClock, helper, nodeModule, until, type RedModule } from '../../helpers/nodered';

const systemModule = nodeModule('vigil-system');
const alarmModule = nodeModule('vigil-alarm');
const telegramModule = nodeModule('vigil-telegram');
const catchModule = coreNode('core/common/25-catch.js');

interface RedNodes {
  loadContextsPlugin(): Promise<void>;
  closeContextsPlugin(): Promise<void>;
}
const redNodes = (): RedNodes => (helper as unknown as { _redNodes: RedNodes })._redNodes;

type Msg = { topic?: string; payload: Record<string, unknown> };
const T0 = Date.parse('2026-06-01T12:00:00Z');
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));


/** A stand-in Bot API: records sendMessage bodies. */
async function botServer(): Promise<{ server: http.Server; base: string; bodies: Array<Record<string, unknown>> }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = http.createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      bodies.push({ url: req.url, ...(JSON.parse(b || '{}') as Record<string, unknown>) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":{}}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}

const alwaysOn = { startTime: '00:00', endTime: '00:00', timezone: 'UTC' };
/** An always-on alarm whose state output goes to the helper node 'st'. */
const stateFlow = [
  { id: 'al', type: 'vigil-alarm', ...alwaysOn, wires: [['st'], []] },
  { id: 'st', type: 'helper' },
];

describe('vigil-alarm / vigil-system / vigil-telegram nodes', function () {
  let clock: FakeClock;
  eachTestOnFakeClock(T0, (c) => (clock = c));
  const tmpDirs: string[] = [];
  afterEach(() => {
    for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('activity at 1 Hz raises Alarm after alertTimeS − minMovementS seconds; status every second and at once on change', async () => {
    const flow = [
      { id: 'al', type: 'vigil-alarm', ...alwaysOn, alertTimeS: 10, minMovementS: 3, alarmHysteresisS: 60, initialAlarmDurationM: 30, wires: [['st'], ['alerts']] },
      { id: 'st', type: 'helper' },
      { id: 'alerts', type: 'helper' },
    ];
    await helper.load([alarmModule], flow);
    const st = collect<Msg>('st');
    const alerts = collect<Msg>('alerts');
    const al = helper.getNode('al');
    clock.advance(0);
    await until(() => st.length >= 1, 'first status');
    assert.equal(st[0].payload.state, 'on');
    for (let t = 1; t <= 9; t++) {
      clock.advance(1000);
      al.receive({ payload: true } as never);
      await flush();
    }
    await until(() => alerts.length === 1, 'alert');
    assert.deepEqual(alerts[0].payload, { message: 'Alarm', test: false, excluded: [] });
    assert.equal(alerts[0].topic, 'alarm');
    const firstAlarm = st.find((m) => m.payload.state === 'alarm');
    assert.ok(firstAlarm);
    assert.equal(firstAlarm.payload.timeStamp, T0 / 1000 + 7, 'alarm at t = 10 − 3');
    assert.equal(firstAlarm.payload.initialAlarm, T0 / 1000 + 7);
    // 1 Hz: one tick status per second plus one per change
    const ticks = st.filter((m) => m.topic === 'status').length;
    assert.ok(ticks >= 10, `statuses: ${ticks}`);
  });

  it('non-boolean activity is an error for that message (done(err))', async () => {
    const flow = [{ id: 'al', type: 'vigil-alarm', ...alwaysOn, wires: [[], []] }];
    await helper.load([alarmModule], flow);
    const al = helper.getNode('al');
    al.receive({ payload: 'yes' } as never);
    await until(() => (al.error as unknown as { called: boolean }).called, 'error');
    assert.match(String((al.error as unknown as { args: unknown[][] }).args[0][0]), /vigil-alarm.errors.notBoolean/);
  });

  it('invalid settings: the node refuses to start with a clear status and log line', async () => {
    const flow = [{ id: 'al', type: 'vigil-alarm', ...alwaysOn, alertTimeS: 5, minMovementS: 9, wires: [[], []] }];
    await helper.load([alarmModule], flow);
    const al = helper.getNode('al');
    assert.match(String((al.error as unknown as { args: unknown[][] }).args[0][0]), /vigil-alarm.errors.invalid/);
    assert.deepEqual((al.status as unknown as { lastCall: { args: unknown[] } }).lastCall.args[0], { fill: 'red', shape: 'ring', text: 'vigil-alarm.status.invalid' });
  });

  it('silence and unsilence by command message; silence from off is refused with the reference message', async () => {
    await helper.load([alarmModule], stateFlow);
    const st = collect<Msg>('st');
    const al = helper.getNode('al');
    al.receive({ topic: 'command', payload: { command: 'silence', data: { silenceFor: 30 } } } as never);
    await until(() => st.some((m) => m.topic === 'reply'), 'reply');
    assert.deepEqual(st.find((m) => m.topic === 'reply')?.payload, { status: 'OK' });
    const silenced = st.find((m) => m.payload.state === 'silenced');
    assert.equal(silenced?.payload.silencedTill, T0 / 1000 + 30);
    clock.advance(30000);
    await until(() => st.at(-1)?.payload.state === 'on', 'unsilenced');
    assert.equal(st.at(-1)?.payload.silencedTill, null);
    al.receive({ topic: 'command', payload: { command: 'off' } } as never);
    await until(() => st.at(-1)?.payload.state === 'off' || st.filter((m) => m.topic === 'reply').length === 2, 'off');
    st.length = 0;
    al.receive({ topic: 'command', payload: { command: 'silence', data: { silenceFor: 5 } } } as never);
    await until(() => st.some((m) => m.topic === 'reply'), 'refusal');
    assert.match(String(st.find((m) => m.topic === 'reply')?.payload.error), /^Current state is State.OFF. silence allows transitions from/);
  });

  it('test alerts honour testGroup, excluded and enabled; config_update through the system; off→on re-enables only alerters disabled at run time', async () => {
    const bot = await botServer();
    clock.set(T0 - 3600000); // 11:00, outside the 12:00–12:30 window: state off
    try {
      const flow = [
        { id: 'sys', type: 'vigil-system', name: 'home' },
        { id: 'al', type: 'vigil-alarm', system: 'sys', startTime: '12:00', endTime: '12:30', timezone: 'UTC', wires: [[], ['tg1', 'tg2', 'tg3']] },
        { id: 'tg1', type: 'vigil-telegram', system: 'sys', alerterName: 'telegram', enabled: true, testGroup: true, chatIds: '111', apiBase: bot.base, title: 'Home', wires: [['out']] },
        { id: 'tg2', type: 'vigil-telegram', system: 'sys', alerterName: 'family', enabled: true, testGroup: false, chatIds: '222', apiBase: bot.base, wires: [['out']] },
        { id: 'tg3', type: 'vigil-telegram', system: 'sys', alerterName: 'night', enabled: false, testGroup: true, chatIds: '333', apiBase: bot.base, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ];
      await helper.load([systemModule, alarmModule, telegramModule], flow, { tg1: { apiKey: '1:a' }, tg2: { apiKey: '2:b' }, tg3: { apiKey: '3:c' } });
      clock.advance(0);
      const out = collect<Msg>('out');
      /** Whether alerter `id` showed the skip status for `why` (node status is a sinon spy in the helper). */
      const skipped = (id: string, why: string): boolean =>
        (helper.getNode(id).status as unknown as { calledWith(a: unknown): boolean }).calledWith({ fill: 'grey', shape: 'ring', text: `vigil-telegram.status.skip.${why}` });
      const hub = (helper.getNode('sys') as unknown as { hub: SystemHub }).hub;
      const cfg = hub.getConfig({ maskSecrets: true });
      assert.deepEqual(Object.keys(cfg.alerters).sort(), ['family', 'night', 'telegram']);
      assert.equal(cfg.alerters.telegram.api_key, '********');
      assert.equal(cfg.alerting?.start_time, '12:00');

      assert.deepEqual(await hub.command('test', { excluded: [] }), { status: 'OK' });
      await until(() => out.length === 1, 'test delivered');
      // the other two decided (synchronously, on input) to skip: nothing of theirs can still be in flight
      await until(() => skipped('tg2', 'not-test-group') && skipped('tg3', 'disabled'), 'the others skipped');
      await flush();
      assert.deepEqual(bot.bodies.map((b) => b.chat_id), [111], 'only the enabled test-group alerter');
      assert.equal(bot.bodies[0].text, '<b>Home</b>\r\nTest, Test');

      assert.deepEqual(await hub.command('test', { excluded: ['telegram'] }), { status: 'OK' });
      await until(() => skipped('tg1', 'excluded'), 'telegram skipped as excluded');
      await flush();
      assert.equal(bot.bodies.length, 1, 'excluded');

      // config_update: disable "telegram", move the window; a bad document changes nothing
      const doc = hub.getConfig({ maskSecrets: true }) as unknown as { alerters: Record<string, Record<string, unknown>>; alerting: Record<string, unknown> };
      doc.alerters.telegram.enabled = false;
      doc.alerting.min_movement_s = 999;
      const bad = await hub.command('config_update', { config: doc });
      assert.ok('error' in bad && Array.isArray(bad.error));
      assert.deepEqual((bad.error as Array<{ loc: unknown[] }>)[0].loc, ['data', 'config', 'alerting', 'min_movement_s']);
      assert.equal(hub.getConfig().alerters.telegram.enabled, true, 'nothing applied');
      doc.alerting.min_movement_s = 10;
      doc.alerting.start_time = '13:00';
      doc.alerting.end_time = '14:00';
      assert.deepEqual(await hub.command('config_update', { config: doc }), { status: 'OK' });
      assert.equal(hub.getConfig().alerters.telegram.enabled, false);
      assert.equal(hub.getConfig().alerters.telegram.api_key, '1:a', 'masked secret kept');
      assert.equal(hub.status?.state, 'off', 'the new window applies at once');

      // off→on at 13:00 re-enables the alerter disabled at run time (telegram); "night",
      // unticked in its own node, stays off
      clock.set(Date.parse('2026-06-01T13:00:00Z'));
      await until(() => hub.status?.state === 'on', 'on at 13:00');
      assert.equal(hub.getConfig().alerters.telegram.enabled, true);
      assert.equal(hub.getConfig().alerters.night.enabled, false);
      assert.deepEqual(Object.keys(hub.exportOverrides()), ['alerting'], 'telegram is back at its editor setting');
      const logs = (helper.getNode('al').log as unknown as { args: unknown[][] }).args.map((a) => String(a[0]));
      assert.equal(logs.filter((l) => /vigil-alarm.log.reenabled/.test(l)).length, 1, logs.join(' | '));
    } finally {
      await new Promise<void>((r) => bot.server.close(() => r()));
    }
  });

  it('state survives a restart with a file-backed context store', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ctx-'));
    const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ctx2-'));
    const useFileStore: RedModule = () => redNodes().loadContextsPlugin() as unknown as void;
    try {
      helper.settings(({ vigilClock: clock, contextStorage: { default: { module: 'memory' }, file: { module: 'localfilesystem', config: { dir, flushInterval: 3600 } } } }) as never);
      const flow = [
        { id: 'tab', type: 'tab' },
        { id: 'al', z: 'tab', type: 'vigil-alarm', ...alwaysOn, contextStore: 'file', wires: [['st'], []] },
        { id: 'st', z: 'tab', type: 'helper' },
      ];
      await helper.load([useFileStore, alarmModule], flow);
      let st = collect<Msg>('st');
      const al = helper.getNode('al');
      const warns = (al.warn as unknown as { args: unknown[][] }).args.map((a) => String(a[0]));
      assert.deepEqual(warns.filter((w) => /notPersistent/.test(w)), [], 'the file store is persistent: no warning');
      al.receive({ topic: 'command', payload: { command: 'silence', data: { silenceFor: 300 } } } as never);
      await until(() => st.some((m) => m.payload.state === 'silenced'), 'silenced');
      await flush();
      await redNodes().closeContextsPlugin(); // flushes the store to disk, as a shutdown does
      fs.cpSync(dir, dir2, { recursive: true }); // what survives the restart
      await helper.unload();

      // "restart": a new runtime reading the stored files, 100 s later
      clock.advance(100000);
      helper.settings(({ vigilClock: clock, contextStorage: { default: { module: 'memory' }, file: { module: 'localfilesystem', config: { dir: dir2, flushInterval: 3600 } } } }) as never);
      await helper.load([useFileStore, alarmModule], flow);
      st = collect<Msg>('st');
      clock.advance(1000);
      await until(() => st.length > 0, 'status after restart');
      assert.equal(st[0].payload.state, 'silenced');
      assert.equal((st[0].payload as unknown as AlarmStatus).silencedTill, T0 / 1000 + 300);
      clock.advance(199000);
      await until(() => st.at(-1)?.payload.state === 'on', 'unsilenced on time');
      await redNodes().closeContextsPlugin();
    } finally {
      tmpDirs.push(dir, dir2); // removed after the helper's unload has cleaned the stores
    }
  });

  it('state survives a redeploy with no context store configured', async () => {
    await helper.load([alarmModule], stateFlow);
    let st = collect<Msg>('st');
    helper.getNode('al').receive({ topic: 'command', payload: { command: 'silence', data: { silenceFor: 120 } } } as never);
    await until(() => st.some((m) => m.payload.state === 'silenced'), 'silenced');
    await helper.setFlows(stateFlow as never, 'full');
    st = collect<Msg>('st');
    clock.advance(1000);
    await until(() => st.length > 0, 'status after redeploy');
    assert.equal(st[0].payload.state, 'silenced');
    assert.equal(st[0].payload.silencedTill, T0 / 1000 + 120);
  });

  it('a second alarm on the same system is refused and stays out of the system status', async () => {
    const flow = [
      { id: 'sys', type: 'vigil-system', name: 'home' },
      { id: 'al1', type: 'vigil-alarm', system: 'sys', ...alwaysOn, wires: [[], []] },
      { id: 'al2', type: 'vigil-alarm', system: 'sys', startTime: '01:00', endTime: '02:00', timezone: 'UTC', wires: [['st2'], []] },
      { id: 'st2', type: 'helper' },
    ];
    await helper.load([systemModule, alarmModule], flow);
    const st2 = collect<Msg>('st2');
    const hub = (helper.getNode('sys') as unknown as { hub: SystemHub }).hub;
    assert.ok((helper.getNode('al2').error as unknown as { called: boolean }).called, 'the second alarm logs the refusal');
    const seen: string[] = [];
    hub.on('status', (s: AlarmStatus) => seen.push(s.state));
    clock.advance(0);
    for (let i = 0; i < 3; i++) clock.advance(1000);
    await until(() => st2.length >= 3, 'the second alarm runs on its own');
    assert.equal(st2.at(-1)?.payload.state, 'off');
    assert.ok(seen.length >= 3);
    assert.deepEqual([...new Set(seen)], ['on'], 'only the first alarm publishes to the system');
  });

  it('runtime config changes survive a redeploy of the system; an editor change of the member wins', async () => {
    const flow = (start: string): never =>
      [
        { id: 'sys', type: 'vigil-system', name: 'home' },
        { id: 'al', type: 'vigil-alarm', system: 'sys', startTime: start, endTime: '07:00', timezone: 'UTC', wires: [[], []] },
      ] as never;
    await helper.load([systemModule, alarmModule], flow('19:00'));
    let hub = (helper.getNode('sys') as unknown as { hub: SystemHub }).hub;
    const doc = hub.getConfig() as unknown as Record<string, Record<string, unknown>>;
    doc.alerting = { ...doc.alerting, start_time: '20:00' };
    assert.deepEqual(await hub.command('config_update', { config: doc }), { status: 'OK' });
    await flush();
    // full redeploy, same editor settings: the runtime change is re-applied
    await helper.setFlows(flow('19:00') as never, 'full');
    hub = (helper.getNode('sys') as unknown as { hub: SystemHub }).hub;
    await until(() => hub.getConfig().alerting?.start_time === '20:00', 'restored');
    // the user edits the alarm in the editor and deploys: the editor wins
    await helper.setFlows(flow('18:00') as never, 'full');
    hub = (helper.getNode('sys') as unknown as { hub: SystemHub }).hub;
    await flush();
    assert.equal(hub.getConfig().alerting?.start_time, '18:00');
  });

  it('wire commands are validated like the API\'s: invalid data runs nothing, gets the reference\'s error list and fails the message', async () => {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'sys', z: 'tab', type: 'vigil-system', name: 'home' },
      { id: 'al', z: 'tab', type: 'vigil-alarm', system: 'sys', ...alwaysOn, wires: [['st'], []] },
      { id: 'st', z: 'tab', type: 'helper' },
      { id: 'ctch', z: 'tab', type: 'catch', scope: ['al'], uncaught: false, wires: [['err']] },
      { id: 'err', z: 'tab', type: 'helper' },
    ];
    await helper.load([systemModule, alarmModule, catchModule], flow);
    const hub = (helper.getNode('sys') as unknown as { hub: SystemHub }).hub;
    const shut: unknown[] = [];
    hub.on('shutdown', (i) => shut.push(i));
    const st = collect<Msg>('st');
    const errs = collect<Msg>('err') as unknown as Array<{ error: { message: string }; payload: unknown }>;
    const al = helper.getNode('al');
    const replies = (): Array<Record<string, unknown>> => st.filter((m) => m.topic === 'reply').map((m) => m.payload);
    const bad: Array<[Record<string, unknown>, string, string]> = [
      [{ command: 'shutdown', data: { shutdownIn: -1 } }, 'data.shutdownIn', 'value_error.number.not_ge'],
      [{ command: 'shutdown', data: { shutdownIn: 'soon' } }, 'data.shutdownIn', 'type_error.integer'],
      [{ command: 'shutdown', data: {} }, 'data.shutdownIn', 'value_error.missing'],
      [{ command: 'shutdown' }, 'data', 'value_error.missing'],
      [{ command: 'silence', data: { silenceFor: 'abc' } }, 'data.silenceFor', 'type_error.float'],
      [{ command: 'config_update', data: { config: [] } }, 'data.config', 'type_error.dict'],
    ];
    for (let i = 0; i < bad.length; i++) {
      const [payload, loc, type] = bad[i];
      al.receive({ topic: 'command', payload } as never);
      await until(() => replies().length === i + 1 && errs.length === i + 1, `reply and error ${i}`);
      const reply = replies()[i] as { error: Array<{ loc: unknown[]; type: string }> };
      assert.deepEqual(
        reply.error.map((e) => [e.loc.join('.'), e.type]),
        [[loc, type]],
        JSON.stringify(payload),
      );
      assert.match(errs[i].error.message, /vigil-alarm.errors.badData/);
    }
    clock.advance(60000);
    await flush();
    assert.deepEqual(shut, [], 'no shutdown from invalid data');
    assert.equal(hub.running, true);
    assert.equal(hub.status?.state, 'on', 'no silence either');

    // an integer string is an integer, as the API takes it: shut down in 5 s, not at once
    al.receive({ topic: 'command', payload: { command: 'shutdown', data: { shutdownIn: '5' } } } as never);
    await until(() => replies().length === bad.length + 1, 'OK');
    assert.deepEqual(replies().at(-1), { status: 'OK' });
    assert.equal(errs.length, bad.length, 'a valid command is not an error');
    clock.advance(4999);
    assert.equal(hub.running, true);
    clock.advance(1);
    assert.deepEqual(shut, [{ source: 'command' }]);
  });

  it('warns once at start when the context store is in memory (state lost at a restart), not with a persistent store', async () => {
    const notPersistent = (): string[] =>
      (helper.getNode('al').warn as unknown as { args: unknown[][] }).args.map((a) => String(a[0])).filter((w) => /errors\.notPersistent/.test(w));
    const flow = [
      { id: 'sys', type: 'vigil-system', name: 'home' },
      { id: 'al', type: 'vigil-alarm', system: 'sys', ...alwaysOn, wires: [[], []] },
    ];
    // no contextStorage in settings.js: Node-RED's default store is in memory
    await helper.load([systemModule, alarmModule], flow);
    let warned = notPersistent();
    assert.equal(warned.filter((w) => /vigil-alarm/.test(w)).length, 1, warned.join(' | '));
    assert.equal(warned.filter((w) => /vigil-system/.test(w)).length, 1, warned.join(' | '));
    // a redeploy changes nothing in settings.js: no second warning
    await helper.setFlows(flow as never, 'full');
    assert.equal(notPersistent().length, 2, notPersistent().join(' | '));
    await helper.unload();

    // settings.js with a persistent default store (the contextStorage entry is all that is read here)
    helper.settings({ vigilClock: clock, contextStorage: { default: { module: 'localfilesystem' }, mem: { module: 'memory' } } } as never);
    await helper.load([systemModule, alarmModule], flow);
    assert.deepEqual(notPersistent(), []);
    await helper.unload();
    // … unless the node selects the memory store
    const memFlow = [
      { id: 'sys', type: 'vigil-system', name: 'home', contextStore: 'mem' },
      { id: 'al', type: 'vigil-alarm', system: 'sys', ...alwaysOn, contextStore: 'mem', wires: [[], []] },
    ];
    await helper.load([systemModule, alarmModule], memFlow);
    warned = notPersistent();
    assert.equal(warned.length, 2, warned.join(' | '));
  });
});
