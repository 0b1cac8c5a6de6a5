import assert from 'node:assert/strict';
import { FakeClock } from '../../../lib/common/clock';
import { SystemHub } from '../../../lib/system/hub';
import { SECRET_MASK } from '../../../lib/system/secrets';
import { AlarmStatus, ConfigError, ConfigSection, SectionMember } from '../../../lib/system/types';

/** A member holding a section, with a simple validator: numbers must be ≥ 0. */
function member(section: string, initial: ConfigSection, secretKeys: string[] = []): SectionMember & { applied: ConfigSection[]; value: ConfigSection } {
  const m = {
    section,
    secretKeys,
    value: { ...initial },
    applied: [] as ConfigSection[],
    get(): ConfigSection {
      return { ...m.value };
    },
    validate(p: ConfigSection): ConfigError[] {
      const errs: ConfigError[] = [];
      for (const [k, v] of Object.entries(p)) {
        if (typeof v === 'number' && v < 0) errs.push({ loc: [...section.split('.'), k], msg: 'must be >= 0', type: 'value_error' });
      }
      return errs;
    },
    apply(p: ConfigSection): void {
      m.value = { ...p };
      m.applied.push(p);
    },
  };
  return m;
}

describe('lib/system/hub', () => {
  it('assembles the document from members, masking secrets when asked', () => {
    const hub = new SystemHub();
    hub.register(member('processing', { fps: 2 }));
    hub.register(member('alerting', { alert_time_s: 180 }));
    hub.register(member('alerters.telegram', { enabled: true, api_key: 'k:secret' }, ['api_key']));
    assert.deepEqual(hub.getConfig(), { alerters: { telegram: { enabled: true, api_key: 'k:secret' } }, processing: { fps: 2 }, alerting: { alert_time_s: 180 } });
    assert.equal(hub.getConfig({ maskSecrets: true }).alerters.telegram.api_key, SECRET_MASK);
    assert.deepEqual(Object.keys(hub.getConfig()), ['alerters', 'processing', 'alerting']);
  });

  it('refuses a second member for a section and bad section names', () => {
    const hub = new SystemHub();
    const off = hub.register(member('camera', { url: '' }));
    assert.throws(() => hub.register(member('camera', { url: '' })), /already has a member/);
    assert.throws(() => hub.register(member('bogus', {})), /not a configuration section/);
    off();
    hub.register(member('camera', { url: 'x' }));
  });

  describe('stand-ins for top sections without a member', () => {
    const standIns = { camera: { url: '' }, processing: { fps: 2, engine: 'auto' }, alerting: { start_time: '19:00', alert_time_s: 180 } };
    const noCamera = 'this system has no vigil-camera node: the camera settings cannot be changed here';

    it('are served where no member is, as copies, and give way to a member', () => {
      const hub = new SystemHub({ standIns });
      hub.register(member('alerting', { start_time: '00:00', alert_time_s: 45 }));
      const doc = hub.getConfig();
      assert.deepEqual(doc, { alerters: {}, camera: { url: '' }, processing: { fps: 2, engine: 'auto' }, alerting: { start_time: '00:00', alert_time_s: 45 } });
      doc.camera!.url = 'mutated';
      assert.deepEqual(hub.getConfig().camera, { url: '' }, 'served as a copy');
      assert.deepEqual(hub.sections(), ['alerting'], 'a stand-in is no member');
      const off = hub.register(member('camera', { url: 'http://cam/x' }));
      assert.deepEqual(hub.getConfig().camera, { url: 'http://cam/x' });
      off();
      assert.deepEqual(hub.getConfig().camera, { url: '' });
      assert.deepEqual(Object.keys(new SystemHub().getConfig()), ['alerters'], 'none by default');
    });

    it('sent back left out, unchanged, reordered or with keys left out: accepted and ignored', () => {
      const hub = new SystemHub({ standIns });
      const a = member('alerting', { start_time: '19:00', alert_time_s: 180 });
      hub.register(a);
      const events: unknown[] = [];
      hub.on('config', (d) => events.push(d));
      assert.deepEqual(hub.applyConfig(hub.getConfig()), []);
      assert.deepEqual(hub.applyConfig({ alerting: { start_time: '19:00', alert_time_s: 180 } }), [], 'left out');
      assert.deepEqual(hub.applyConfig({ camera: null, processing: { engine: 'auto', fps: 2 }, alerting: a.get() }), [], 'null, key order');
      assert.deepEqual(hub.applyConfig({ processing: { fps: 2, engine: null, unknown: 1 }, alerting: a.get() }), [], 'a key null or unknown');
      assert.deepEqual(events, []);
      assert.deepEqual(a.applied, []);
    });

    it('changed: the whole update is refused, in the reference error shape, naming the missing node', () => {
      const hub = new SystemHub({ standIns });
      const a = member('alerting', { start_time: '19:00', alert_time_s: 180 });
      hub.register(a);
      const doc = { ...hub.getConfig(), camera: { url: 'rtsp://elsewhere/' }, processing: 'fast', alerting: { start_time: '20:00', alert_time_s: 180 } };
      assert.deepEqual(hub.applyConfig(doc), [
        { loc: ['camera'], msg: noCamera, type: 'value_error' },
        { loc: ['processing'], msg: 'this system has no vigil-motion node: the processing settings cannot be changed here', type: 'value_error' },
      ]);
      assert.deepEqual(a.applied, [], 'nothing applied');
      assert.deepEqual(hub.getConfig().camera, { url: '' });
    });

    it('through the command queue: loc from the command', async () => {
      const hub = new SystemHub({ standIns });
      hub.register(member('alerting', { alert_time_s: 180 }));
      const reply = await hub.command('config_update', { config: { ...hub.getConfig(), camera: { url: 'x' } } });
      assert.deepEqual(reply, { error: [{ loc: ['data', 'config', 'camera'], msg: noCamera, type: 'value_error' }] });
      assert.deepEqual(await hub.command('config_update', { config: hub.getConfig() }), { status: 'OK' });
    });
  });

  it('applies all or nothing, ignores flags, keeps masked secrets, emits config', () => {
    const hub = new SystemHub();
    const p = hub.register(member('processing', { fps: 2 })) && hub.member('processing');
    assert.ok(p);
    const t = member('alerters.telegram', { enabled: true, api_key: 'k:secret' }, ['api_key']);
    hub.register(t);
    const events: unknown[] = [];
    hub.on('config', (d) => events.push(d));

    const bad = hub.applyConfig({ processing: { fps: -1 }, alerters: { telegram: { enabled: false, api_key: SECRET_MASK } } });
    assert.deepEqual(bad, [{ loc: ['processing', 'fps'], msg: 'must be >= 0', type: 'value_error' }]);
    assert.equal(t.applied.length, 0, 'nothing applied when any part is invalid');

    const doc = hub.getConfig({ maskSecrets: true }) as unknown as Record<string, unknown>;
    (doc.alerters as Record<string, ConfigSection>).telegram.enabled = false;
    doc.flags = { config_path: '/etc/passwd' };
    assert.deepEqual(hub.applyConfig(doc), []);
    assert.deepEqual(t.value, { enabled: false, api_key: 'k:secret' });
    assert.equal(events.length, 1);
    assert.equal(hub.member('processing')?.get().fps, 2);
  });

  it('reports missing and non-object sections in the reference shape', () => {
    const hub = new SystemHub();
    hub.register(member('processing', { fps: 2 }));
    hub.register(member('alerting', { a: 1 }));
    hub.register(member('alerters.siren', { enabled: true }));
    assert.deepEqual(hub.validateConfig([]), [{ loc: ['__root__'], msg: 'value is not a valid dict', type: 'type_error.dict' }]);
    assert.deepEqual(hub.validateConfig({ processing: 3, alerters: { siren: 'x' } }), [
      { loc: ['processing'], msg: 'value is not a valid dict', type: 'type_error.dict' },
      { loc: ['alerting'], msg: 'field required', type: 'value_error.missing' },
      { loc: ['alerters', 'siren'], msg: 'value is not a valid dict', type: 'type_error.dict' },
    ]);
    // alerters (and each alerter) are optional, like the reference
    assert.deepEqual(hub.validateConfig({ processing: { fps: 1 }, alerting: { a: 1 } }), []);
  });

  it('queues commands in order: config_update, shutdown by the hub, others to the handler', async () => {
    const clock = new FakeClock(1000);
    const hub = new SystemHub({ clock, name: 'sys' });
    hub.register(member('processing', { fps: 2 }));
    const noHandler = await hub.command('silence', { silenceFor: 1 });
    assert.ok('error' in noHandler && typeof noHandler.error === 'string');

    const seen: string[] = [];
    hub.setCommandHandler(async (c) => {
      seen.push(c);
      return c === 'off' ? { error: 'nope' } : { status: 'OK' };
    });
    const replies = await Promise.all([
      hub.command('silence', { silenceFor: 1 }),
      hub.command('config_update', { config: { processing: { fps: -3 } } }),
      hub.command('config_update', { config: { processing: { fps: 5 } } }),
      hub.command('off', {}),
    ]);
    assert.deepEqual(replies, [
      { status: 'OK' },
      { error: [{ loc: ['data', 'config', 'processing', 'fps'], msg: 'must be >= 0', type: 'value_error' }] },
      { status: 'OK' },
      { error: 'nope' },
    ]);
    assert.deepEqual(seen, ['silence', 'off']);

    hub.setCommandHandler(() => {
      throw new Error('boom');
    });
    assert.deepEqual(await hub.command('test', { excluded: [] }), { error: 'boom' });

    const shut: unknown[] = [];
    hub.on('shutdown', (i) => shut.push(i));
    assert.deepEqual(await hub.command('shutdown', { shutdownIn: 5 }), { status: 'OK' });
    clock.advance(4999);
    assert.equal(shut.length, 0);
    assert.equal(hub.running, true);
    clock.advance(1);
    assert.deepEqual(shut, [{ source: 'command' }]);
    assert.equal(hub.running, false);
    const started: unknown[] = [];
    hub.on('start', () => started.push(1));
    hub.start();
    assert.equal(hub.running, true);
    assert.equal(started.length, 1);
    hub.dispose();
    assert.equal(clock.pending, 0);
  });

  it('keeps and emits status, metrics, frames; lists alerters', () => {
    const hub = new SystemHub();
    const got: string[] = [];
    hub.on('status', () => got.push('status'));
    hub.on('metrics', () => got.push('metrics'));
    hub.on('frame', () => got.push('frame'));
    const s: AlarmStatus = { timeStamp: 1, state: 'on', initialAlarm: 0, silencedTill: null };
    hub.publishStatus(s);
    hub.publishMetrics({ loopAvgS: 0, loopMaxS: 0, loopMinS: 0, frames: 0, engine: 'x' });
    hub.publishFrame(Buffer.from([0xff, 0xd8, 0xff, 0xd9]), { seq: 1, width: 1, height: 1, timestamp: 0 });
    assert.deepEqual(got, ['status', 'metrics', 'frame']);
    assert.equal(hub.status, s);
    assert.equal(hub.frame?.info.seq, 1);
    const a = { name: 'siren', enabled: true, testGroup: true, setEnabled: () => undefined };
    const off = hub.registerAlerter(a);
    assert.throws(() => hub.registerAlerter({ ...a }));
    assert.deepEqual(hub.alerters(), [a]);
    off();
    assert.deepEqual(hub.alerters(), []);
  });

  it('restores runtime overrides after a restart unless the editor settings changed', () => {
    const hub1 = new SystemHub();
    hub1.register(member('alerting', { start_time: '19:00' }));
    const saved: unknown[] = [];
    hub1.on('config', () => saved.push(hub1.exportOverrides()));
    assert.deepEqual(hub1.updateSection('alerting', { start_time: '20:00' }), []);
    const overrides = JSON.parse(JSON.stringify(saved.at(-1)));
    assert.deepEqual(overrides, { alerting: { base: { start_time: '19:00' }, value: { start_time: '20:00' } } });

    // restart, same editor settings: the runtime change comes back
    const hub2 = new SystemHub();
    hub2.importOverrides(overrides);
    const m2 = member('alerting', { start_time: '19:00' });
    hub2.register(m2);
    assert.equal(m2.value.start_time, '20:00');

    // restart after an editor deploy of changed settings: the editor wins
    const hub3 = new SystemHub();
    hub3.importOverrides(overrides);
    const dropped: unknown[] = [];
    hub3.on('overrides', (o) => dropped.push(o));
    const m3 = member('alerting', { start_time: '18:00' });
    hub3.register(m3);
    assert.equal(m3.value.start_time, '18:00');
    assert.deepEqual(hub3.exportOverrides(), {});
    assert.equal(dropped.length, 1);

    // changing back to the editor value forgets the override
    hub2.updateSection('alerting', { start_time: '19:00' });
    assert.deepEqual(hub2.exportOverrides(), {});
  });

  it('never persists secrets: they are masked in the overrides and come back from the member', () => {
    const hub1 = new SystemHub();
    hub1.register(member('alerters.telegram', { enabled: true, api_key: 'k:secret' }, ['api_key']));
    hub1.updateSection('alerters.telegram', { enabled: false });
    const saved = JSON.parse(JSON.stringify(hub1.exportOverrides()));
    assert.ok(!JSON.stringify(saved).includes('k:secret'));
    const hub2 = new SystemHub();
    const m = member('alerters.telegram', { enabled: true, api_key: 'k:secret' }, ['api_key']);
    hub2.register(m);
    hub2.importOverrides(saved); // late import (async context store): applied to the registered member
    assert.deepEqual(m.value, { enabled: false, api_key: 'k:secret' });
  });

  it('a runtime change that moved a secret\'s destination never gets the stored secret back after a restart', async () => {
    const hub1 = new SystemHub();
    const tg = { enabled: true, api_key: 'REAL', api_base: 'https://api.telegram.org' };
    hub1.register(member('alerters.telegram', tg, ['api_key']));
    // allowed: the request carries a secret of its own with the new base
    assert.deepEqual(await hub1.command('config_update', { config: { alerters: { telegram: { ...tg, api_key: 'DECOY', api_base: 'http://evil.example' } } } }), { status: 'OK' });
    const saved = JSON.parse(JSON.stringify(hub1.exportOverrides()));
    assert.equal(saved['alerters.telegram'].value.api_key, SECRET_MASK, 'the runtime secret is not persisted');
    const hub2 = new SystemHub();
    const m = member('alerters.telegram', tg, ['api_key']);
    hub2.register(m);
    const dropped: unknown[] = [];
    hub2.on('overrides', (o) => dropped.push(o));
    hub2.importOverrides(saved);
    assert.deepEqual(m.value, tg, 'REAL is not restored into a section that points at evil.example');
    assert.deepEqual(dropped, [{}], 'the override is dropped (and the drop persisted)');
  });

  it('config_update: a masked secret with a changed destination is refused as a whole, with the loc under data.config', async () => {
    const hub = new SystemHub();
    const tg = member('alerters.telegram', { enabled: true, api_key: 'REAL', api_base: '' }, ['api_key']);
    const proc = member('processing', { fps: 2 });
    hub.register(tg);
    hub.register(proc);
    const doc = hub.getConfig({ maskSecrets: true }) as unknown as { alerters: Record<string, ConfigSection>; processing: ConfigSection };
    doc.alerters.telegram.api_base = 'http://evil.example';
    doc.processing.fps = 5;
    const r = await hub.command('config_update', { config: doc });
    assert.ok('error' in r && Array.isArray(r.error));
    assert.deepEqual((r.error as ConfigError[]).map((e) => [e.loc, e.type]), [[['data', 'config', 'alerters', 'telegram', 'api_key'], 'value_error.secret']]);
    assert.equal(proc.value.fps, 2, 'nothing applied');
    assert.equal(tg.value.api_base, '');
  });

  it('a member registering (one of the system\'s nodes deployed) ends a shutdown; start() is a no-op while running', async () => {
    const clock = new FakeClock(1000);
    const hub = new SystemHub({ clock });
    const events: string[] = [];
    hub.on('shutdown', () => events.push('shutdown'));
    hub.on('start', () => events.push('start'));
    const offCamera = hub.register(member('camera', { url: 'x' }));
    hub.start();
    assert.deepEqual(events, [], 'running: nothing to start');
    assert.deepEqual(await hub.command('shutdown', { shutdownIn: 0 }), { status: 'OK' });
    clock.advance(0);
    assert.equal(hub.running, false);
    // a "modified nodes" deploy of the camera: its old node unregisters, the new one registers
    offCamera();
    assert.equal(hub.running, false, 'unregistering does not start');
    hub.register(member('camera', { url: 'x' }));
    assert.equal(hub.running, true);
    assert.deepEqual(events, ['shutdown', 'start']);
    hub.register(member('processing', { fps: 2 }));
    assert.deepEqual(events, ['shutdown', 'start'], 'one start per shutdown');
    hub.dispose();
  });

  it('shutdown data is validated like the API\'s: garbage never becomes an immediate shutdown', async () => {
    const clock = new FakeClock(1000);
    const hub = new SystemHub({ clock });
    const shut: unknown[] = [];
    hub.on('shutdown', (i) => shut.push(i));
    const bad: Array<[Record<string, unknown>, string, string]> = [
      [{}, 'data.shutdownIn', 'value_error.missing'],
      [{ shutdownIn: -1 }, 'data.shutdownIn', 'value_error.number.not_ge'],
      [{ shutdownIn: 'soon' }, 'data.shutdownIn', 'type_error.integer'],
      [{ shutdown_in: null }, 'data.shutdown_in', 'type_error.integer'],
    ];
    for (const [data, loc, type] of bad) {
      const r = await hub.command('shutdown', data);
      assert.ok('error' in r && Array.isArray(r.error), JSON.stringify(data));
      assert.deepEqual(
        (r.error as ConfigError[]).map((e) => [e.loc.join('.'), e.type]),
        [[loc, type]],
        JSON.stringify(data),
      );
    }
    clock.advance(60000);
    assert.deepEqual(shut, [], 'no shutdown from invalid data');
    assert.equal(hub.running, true);
    // an integer string is an integer, as pydantic v1 (and the API) take it: in 5 s, not now
    assert.deepEqual(await hub.command('shutdown', { shutdownIn: '5' }), { status: 'OK' });
    clock.advance(4999);
    assert.equal(hub.running, true);
    clock.advance(1);
    assert.equal(hub.running, false);
    // config_update without a dict
    const r = await hub.command('config_update', { config: 'x' });
    assert.deepEqual(r, { error: [{ loc: ['data', 'config'], msg: 'value is not a valid dict', type: 'type_error.dict' }] });
    hub.dispose();
  });

  it('an optional key left out (or null) keeps its value: no change, no event, no override', () => {
    const hub = new SystemHub();
    const a = member('alerting', { start_time: '19:00', timezone: 'Europe/Paris' });
    hub.register(a);
    const events: unknown[] = [];
    hub.on('config', (d) => events.push(d));
    // a reference client's section has no timezone
    assert.deepEqual(hub.applyConfig({ alerting: { start_time: '19:00' } }), []);
    assert.deepEqual(a.applied, [], 'nothing changed: not applied');
    assert.deepEqual(events, []);
    assert.deepEqual(hub.exportOverrides(), {});
    assert.deepEqual(hub.applyConfig({ alerting: { start_time: '20:00', timezone: null } }), []);
    assert.deepEqual(a.value, { start_time: '20:00', timezone: 'Europe/Paris' });
    assert.equal(events.length, 1);
    assert.deepEqual(hub.exportOverrides(), { alerting: { base: { start_time: '19:00', timezone: 'Europe/Paris' }, value: { start_time: '20:00', timezone: 'Europe/Paris' } } });
    // an explicit value does change it
    assert.deepEqual(hub.applyConfig({ alerting: { start_time: '20:00', timezone: '' } }), []);
    assert.deepEqual(a.value, { start_time: '20:00', timezone: '' });
  });

  it('runtimeDisabledAlerters: only alerters enabled in their own settings and disabled at run time', () => {
    const hub = new SystemHub();
    const alerter = (name: string, enabled: boolean): { m: ReturnType<typeof member> } => {
      const m = member(`alerters.${name}`, { enabled, test_grp: true });
      hub.register(m);
      hub.registerAlerter({
        name,
        get enabled() {
          return m.value.enabled === true;
        },
        testGroup: true,
        setEnabled: (v: boolean) => void hub.updateSection(`alerters.${name}`, { enabled: v }),
      });
      return { m };
    };
    alerter('telegram', true);
    alerter('siren', false); // unticked in the editor
    alerter('family', true);
    alerter('spare', false);
    assert.deepEqual(hub.runtimeDisabledAlerters(), []);
    const doc = hub.getConfig();
    doc.alerters.telegram.enabled = false; // the reference UI's toggle
    doc.alerters.spare.enabled = true;
    assert.deepEqual(hub.applyConfig(doc), []);
    assert.deepEqual(hub.runtimeDisabledAlerters().map((a) => a.name), ['telegram']);
    // spare, enabled at run time then disabled again, is back at its editor setting
    assert.deepEqual(hub.updateSection('alerters.spare', { enabled: false }), []);
    assert.deepEqual(hub.runtimeDisabledAlerters().map((a) => a.name), ['telegram']);
    for (const a of hub.runtimeDisabledAlerters()) a.setEnabled(true);
    assert.deepEqual(hub.runtimeDisabledAlerters(), []);
    assert.equal(hub.getConfig().alerters.telegram.enabled, true);
    assert.equal(hub.getConfig().alerters.siren.enabled, false, 'the editor\'s choice stays');
    assert.deepEqual(hub.exportOverrides(), {}, 'back at the editor settings: nothing to persist');
  });
});
