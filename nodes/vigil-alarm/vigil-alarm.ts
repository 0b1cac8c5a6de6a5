/**
 * vigil-alarm: the alarm state machine (camera-alarm.md §3–§5). Thin adapter over
 * lib/alarm/alarm.ts: settings → AlarmEngine, engine events → messages and status,
 * state kept in node context, and the `alerting` section + command handler of a vigil-system.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { AlarmEngine, Alert, AlarmSettings, DEFAULT_ALARM_SETTINGS, toSection, validateAlerting } from '../../lib/alarm/alarm';
import { hostTimezone, localTimeOfDay } from '../../lib/alarm/schedule';
import type { StateSnapshot } from '../../lib/alarm/state';
import { COMMANDS, describeErrors, validateData } from '../../lib/system/commands';
import type { SystemHub } from '../../lib/system/hub';
import { PERSISTENT_STORE_EXAMPLE, storeWarningDue } from '../../lib/system/store';
import type { AlarmStatus, CommandName, CommandReply } from '../../lib/system/types';
import { errorMessage, flowClock } from '../util';

interface AlarmDef extends NodeDef {
  system?: string;
  startTime?: string;
  endTime?: string;
  timezone?: string;
  alertTimeS?: number | string;
  minMovementS?: number | string;
  initialAlarmDurationM?: number | string;
  alarmHysteresisS?: number | string;
  contextStore?: string;
}

const STATE_KEY = 'state';

/** Editor values as they come (strings allowed), without clamping: validation reports them. */
function intSetting(v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  return typeof v === 'number' ? v : Number(v);
}

function settingsFrom(config: AlarmDef): AlarmSettings {
  const d = DEFAULT_ALARM_SETTINGS;
  return {
    startTime: (config.startTime ?? d.startTime).trim(),
    endTime: (config.endTime ?? d.endTime).trim(),
    timezone: (config.timezone ?? '').trim(),
    alertTimeS: intSetting(config.alertTimeS, d.alertTimeS),
    minMovementS: intSetting(config.minMovementS, d.minMovementS),
    initialAlarmDurationM: intSetting(config.initialAlarmDurationM, d.initialAlarmDurationM),
    alarmHysteresisS: intSetting(config.alarmHysteresisS, d.alarmHysteresisS),
  };
}

export = function (RED: NodeAPI): void {
  // Node-RED deletes a node's context at every redeploy when no context store is configured;
  // this per-runtime copy keeps the alarm state across redeploys in that case too.
  const memory = new Map<string, StateSnapshot>();
  /** node id + store already warned about (once per runtime: only a restart can change settings.js). */
  const warnedStore = new Set<string>();

  function VigilAlarmNode(this: Node, config: AlarmDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- used in callbacks
    const node = this;
    const clock = flowClock(RED);
    const store = (config.contextStore || '').trim() || undefined;
    const ctx = node.context();
    const cleanups: Array<() => void> = [];
    let closed = false;

    const settings = settingsFrom(config);
    const invalid = validateAlerting(toSection(settings));
    if (invalid.length > 0) {
      const why = invalid.map((e) => `${e.loc.slice(1).join('.')}: ${e.msg}`).join('; ');
      node.status({ fill: 'red', shape: 'ring', text: 'vigil-alarm.status.invalid' });
      node.error(RED._('vigil-alarm.errors.invalid', { why }));
      node.on('input', (_msg: NodeMessageInFlow, _send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
        done(new Error(RED._('vigil-alarm.errors.invalid', { why })));
      });
      node.on('close', (_removed: boolean, done: () => void) => done());
      return;
    }

    const due = storeWarningDue(warnedStore, node.id, (RED.settings as unknown as { contextStorage?: unknown }).contextStorage, store);
    if (due) node.warn(RED._('vigil-alarm.errors.notPersistent', { store: due.store, example: PERSISTENT_STORE_EXAMPLE }));

    const engine = new AlarmEngine({ settings, clock });
    /** This alarm is the system's (a second alarm on the same system is refused and runs on its own). */
    let ownsHandler = false;
    const sys = config.system ? (RED.nodes.getNode(config.system) as unknown as { hub?: SystemHub } | null) : null;
    const hub = sys?.hub;

    let lastShown = '';
    const showStatus = (s: AlarmStatus): void => {
      const text = s.state === 'silenced' && s.silencedTill !== null ? RED._('vigil-alarm.status.silencedTill', { till: localTimeOfDay(s.silencedTill * 1000, engine.settings.timezone || hostTimezone()) }) : RED._(`vigil-alarm.status.${s.state}`);
      if (text === lastShown) return;
      lastShown = text;
      const look = { on: ['green', 'dot'], off: ['grey', 'ring'], alarm: ['red', 'dot'], silenced: ['yellow', 'dot'] }[s.state];
      node.status({ fill: look[0] as 'green', shape: look[1] as 'dot', text });
    };

    engine.on('status', (s: AlarmStatus) => {
      if (closed) return;
      showStatus(s);
      if (ownsHandler) hub?.publishStatus(s); // a second alarm, refused by the system, stays out of its status
      node.send([{ topic: 'status', payload: s }, null]);
    });
    engine.on('alert', (a: Alert) => {
      if (closed) return;
      if (ownsHandler) hub?.publishAlert(a); // the system's recorder records real alarms
      node.send([null, { topic: a.test ? 'test' : 'alarm', payload: a }]);
    });
    engine.on('persist', (snap: StateSnapshot) => {
      if (closed) return;
      memory.set(node.id, snap);
      ctx.set(STATE_KEY, snap, store, (err?: Error) => {
        if (err) node.warn(RED._('vigil-alarm.errors.persist', { error: errorMessage(err) }));
      });
    });
    engine.on('reenable', () => {
      if (!hub || !ownsHandler) return;
      // Only alerters disabled at run time (a config_update, e.g. the reference UI's toggle);
      // one unticked in its node's settings stays off.
      for (const a of hub.runtimeDisabledAlerters()) {
        a.setEnabled(true);
        node.log(RED._('vigil-alarm.log.reenabled', { name: a.name }));
      }
    });

    if (hub) {
      try {
        cleanups.push(
          hub.register({
            section: 'alerting',
            get: () => toSection(engine.settings),
            validate: (p) => validateAlerting(p),
            apply: (p) => engine.applySection(p),
          }),
        );
        hub.setCommandHandler((name, data) => engine.command(name, data));
        ownsHandler = true;
        cleanups.push(() => hub.setCommandHandler(undefined));
      } catch (err) {
        node.error(errorMessage(err));
      }
    }

    // Resume the stored state (silence, last alarm, initial alarm), then start the 1 Hz tick.
    const begin = (snap: unknown): void => {
      if (closed) return;
      if (snap && typeof snap === 'object') engine.machine.restore(snap as Partial<StateSnapshot>);
      // Start once the flow is running, so the first status message reaches the wires.
      const t = engine.clock.setTimeout(() => {
        if (!closed) engine.start();
      }, 0);
      cleanups.push(() => engine.clock.clearTimeout(t));
    };
    try {
      ctx.get(STATE_KEY, store, (err: Error | undefined, value: unknown) => {
        if (err) node.warn(RED._('vigil-alarm.errors.restore', { error: errorMessage(err) }));
        begin((err ? undefined : value) ?? memory.get(node.id));
      });
    } catch (err) {
      node.warn(RED._('vigil-alarm.errors.restore', { error: errorMessage(err) }));
      begin(memory.get(node.id));
    }

    const runCommand = async (name: CommandName, data: Record<string, unknown>): Promise<CommandReply> => {
      if (name === 'config_update' || name === 'shutdown') {
        if (!hub) return { error: RED._('vigil-alarm.errors.needsSystem', { command: name }) };
        return hub.command(name, data);
      }
      // through the hub when there is one, so wire and API commands share one queue
      if (hub && ownsHandler) return hub.command(name, data);
      return engine.command(name, data);
    };

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      const m = msg as NodeMessageInFlow & { payload?: unknown; topic?: string; reply?: unknown };
      if (m.topic === 'command') {
        const p = m.payload as { command?: unknown; data?: unknown } | undefined;
        if (!p || typeof p !== 'object' || typeof p.command !== 'string' || !(COMMANDS as readonly string[]).includes(p.command)) {
          done(new Error(RED._('vigil-alarm.errors.badCommand', { commands: COMMANDS.join(', ') })));
          return;
        }
        const name = p.command as CommandName;
        // Checked as the API checks them (e.g. shutdownIn a whole number, 0 … 366 days): the
        // reply is the reference's error list, and the message fails.
        const v = validateData(name, p.data);
        if ('errors' in v) {
          m.payload = { error: v.errors } satisfies CommandReply;
          m.topic = 'reply';
          send([m, null]);
          done(new Error(RED._('vigil-alarm.errors.badData', { command: name, why: describeErrors(v.errors) })));
          return;
        }
        runCommand(name, v.data).then(
          (reply) => {
            m.payload = reply;
            m.topic = 'reply';
            send([m, null]);
            done();
          },
          (err) => done(err instanceof Error ? err : new Error(String(err))),
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

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      if (removed) memory.delete(node.id);
      else memory.set(node.id, engine.machine.snapshot());
      for (const c of cleanups.splice(0)) c();
      engine.dispose();
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('vigil-alarm', VigilAlarmNode);
};
