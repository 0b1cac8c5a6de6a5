/**
 * vigil-alarm: the alarm state machine (docs/camera-alarm.md §3–§5). Thin adapter over
 * lib/alarm/alarm.ts: settings → AlarmEngine, engine events → messages and status,
 * state kept in node context, and the `alerting` section + command handler of a vigil-system.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { AlarmEngine, Alert, AlarmSettings, DEFAULT_ALARM_SETTINGS, toSection, validateAlerting } from '../../lib/alarm/alarm';
import { hostTimezone, localTimeOfDay } from '../../lib/alarm/schedule';
import type { StateSnapshot } from '../../lib/alarm/state';
import { COMMANDS, describeErrors, validateData } from '../../lib/common/commands';
import { PERSISTENT_STORE_EXAMPLE, storeWarningDue } from '../../lib/system/store';
import type { AlarmStatus, CommandName, CommandReply } from '../../lib/system/types';
import { type Done, type EditorSettings, type Send, contextSlot, errorMessage, readNumbers, refuse, scope, systemHub } from '../kit';

interface AlarmDef extends NodeDef, EditorSettings<AlarmSettings> {
  system?: string;
  contextStore?: string;
}

/** Editor values as they come (strings allowed, no clamping): validation reports them. */
function settingsFrom(config: AlarmDef): AlarmSettings {
  const d = DEFAULT_ALARM_SETTINGS;
  return {
    ...readNumbers(config, d),
    startTime: (config.startTime ?? d.startTime).trim(),
    endTime: (config.endTime ?? d.endTime).trim(),
    timezone: (config.timezone ?? '').trim(),
  };
}

type Look = { fill: 'green' | 'grey' | 'red' | 'yellow'; shape: 'dot' | 'ring' };
const LOOK: Record<AlarmStatus['state'], Look> = { on: { fill: 'green', shape: 'dot' }, off: { fill: 'grey', shape: 'ring' }, alarm: { fill: 'red', shape: 'dot' }, silenced: { fill: 'yellow', shape: 'dot' } };

export = function (RED: NodeAPI): void {
  // Node-RED deletes a node's context at every redeploy when no persistent store is
  // configured: the slot's per-runtime copy keeps the alarm state across redeploys then too.
  const memory = new Map<string, StateSnapshot>();
  /** node id + store already warned about (once per runtime: only a restart can change settings.js). */
  const warnedStore = new Set<string>();

  function VigilAlarmNode(this: Node, config: AlarmDef): void {
    RED.nodes.createNode(this, config);
    const settings = settingsFrom(config);
    const invalid = validateAlerting(toSection(settings));
    if (invalid.length > 0) {
      const why = invalid.map((e) => `${e.loc.slice(1).join('.')}: ${e.msg}`).join('; ');
      return refuse(this, RED._('vigil-alarm.errors.invalid', { why }), 'vigil-alarm.status.invalid');
    }
    const s = scope(RED, this);
    const store = (config.contextStore || '').trim() || undefined;
    const slot = contextSlot<StateSnapshot>(this, memory, 'state', store);
    const due = storeWarningDue(warnedStore, this.id, (RED.settings as unknown as { contextStorage?: unknown }).contextStorage, store);
    if (due) this.warn(RED._('vigil-alarm.errors.notPersistent', { store: due.store, example: PERSISTENT_STORE_EXAMPLE }));

    const engine = new AlarmEngine({ settings, clock: s.clock });
    /** This alarm is the system's (a second alarm on the same system is refused and runs on its own). */
    let ownsHandler = false;
    const hub = systemHub(RED, config.system);

    let lastShown = '';
    const showStatus = (st: AlarmStatus): void => {
      const text =
        st.state === 'silenced' && st.silencedTill !== null
          ? RED._('vigil-alarm.status.silencedTill', { till: localTimeOfDay(st.silencedTill * 1000, engine.settings.timezone || hostTimezone()) })
          : RED._(`vigil-alarm.status.${st.state}`);
      if (text === lastShown) return;
      lastShown = text;
      this.status({ ...LOOK[st.state], text });
    };

    s.listen(engine, 'status', (st: AlarmStatus) => {
      showStatus(st);
      if (ownsHandler) hub?.publishStatus(st); // a second alarm, refused by the system, stays out of its status
      this.send([{ topic: 'status', payload: st }, null]);
    });
    s.listen(engine, 'alert', (a: Alert) => {
      if (ownsHandler) hub?.publishAlert(a); // the system's recorder records real alarms
      this.send([null, { topic: a.test ? 'test' : 'alarm', payload: a }]);
    });
    s.listen(engine, 'persist', (snap: StateSnapshot) => slot.save(snap, (err) => this.warn(RED._('vigil-alarm.errors.persist', { error: errorMessage(err) }))));
    s.listen(engine, 'reenable', () => {
      if (!hub || !ownsHandler) return;
      // Only alerters disabled at run time (a config_update); one unticked in the editor stays off.
      for (const a of hub.runtimeDisabledAlerters()) {
        a.setEnabled(true);
        this.log(RED._('vigil-alarm.log.reenabled', { name: a.name }));
      }
    });

    if (hub) {
      try {
        s.defer(hub.register({ section: 'alerting', get: () => toSection(engine.settings), validate: (p) => validateAlerting(p), apply: (p) => engine.applySection(p) }));
        hub.setCommandHandler((name, data) => engine.command(name, data));
        ownsHandler = true;
        s.defer(() => hub.setCommandHandler(undefined));
      } catch (err) {
        this.error(errorMessage(err));
      }
    }

    // Resume the stored state (silence, last alarm, initial alarm), then start the 1 Hz tick
    // once the flow is running, so the first status message reaches the wires.
    slot.load(
      (snap) => {
        if (s.closed) return;
        if (snap && typeof snap === 'object') engine.machine.restore(snap);
        s.after(0, () => engine.start());
      },
      (err) => this.warn(RED._('vigil-alarm.errors.restore', { error: errorMessage(err) })),
    );

    const runCommand = async (name: CommandName, data: Record<string, unknown>): Promise<CommandReply> => {
      if (name === 'config_update' || name === 'shutdown') {
        if (!hub) return { error: RED._('vigil-alarm.errors.needsSystem', { command: name }) };
        return hub.command(name, data);
      }
      // through the hub when there is one, so wire and API commands share one queue
      if (hub && ownsHandler) return hub.command(name, data);
      return engine.command(name, data);
    };

    this.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      const m = msg as NodeMessageInFlow & { payload?: unknown; topic?: string };
      if (m.topic === 'command') {
        const p = m.payload as { command?: unknown; data?: unknown } | undefined;
        if (!p || typeof p !== 'object' || typeof p.command !== 'string' || !(COMMANDS as readonly string[]).includes(p.command)) {
          done(new Error(RED._('vigil-alarm.errors.badCommand', { commands: COMMANDS.join(', ') })));
          return;
        }
        const name = p.command as CommandName;
        const reply = (r: CommandReply): void => {
          m.payload = r;
          m.topic = 'reply';
          send([m, null]);
        };
        // Checked as the API checks them (e.g. shutdownIn a whole number, 0 … 366 days): the
        // reply is the error list of docs/camera-alarm.md §8.2, and the message fails.
        const v = validateData(name, p.data);
        if ('errors' in v) {
          reply({ error: v.errors });
          done(new Error(RED._('vigil-alarm.errors.badData', { command: name, why: describeErrors(v.errors) })));
          return;
        }
        s.track(
          runCommand(name, v.data).then(
            (r) => {
              reply(r);
              done();
            },
            (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
          ),
        );
        return;
      }
      if (typeof m.payload !== 'boolean') {
        done(new Error(RED._('vigil-alarm.errors.notBoolean', { type: m.payload === null ? 'null' : typeof m.payload })));
        return;
      }
      engine.activity(m.payload);
      done();
    });

    s.defer((removed) => {
      slot.remember(removed ? undefined : engine.machine.snapshot());
      engine.dispose();
    });
  }

  RED.nodes.registerType('vigil-alarm', VigilAlarmNode);
};
