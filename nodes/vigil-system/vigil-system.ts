/**
 * vigil-system (config node): one monitored camera system. Owns a SystemHub
 * (lib/system/hub.ts) that joins the camera, motion, alarm, alerter and API nodes that
 * select it, serves defaults for the sections no node owns (STAND_INS) and persists runtime
 * configuration changes in its node context.
 */
import type { NodeAPI, NodeDef } from 'node-red';
import { DEFAULT_ALARM_SETTINGS, toSection as alertingToSection } from '../../lib/alarm/alarm';
import { DEFAULT_MOTION_SETTINGS } from '../../lib/motion/detector';
import { processingToSection } from '../../lib/motion/section';
import { type Overrides, type StandIns, SystemHub, type ShutdownInfo } from '../../lib/system/hub';
import { PERSISTENT_STORE_EXAMPLE, storeWarningDue } from '../../lib/system/store';
import { type VigilSystemNode, contextSlot, errorMessage, scope } from '../kit';

interface SystemDef extends NodeDef {
  allowExit?: boolean;
  contextStore?: string;
}

/**
 * The sections of a system without a camera, detector or alarm node (activity from another
 * sensor, say): what those nodes would serve with their defaults, so `/config` always has the
 * top sections the reference's clients require (docs/camera-alarm.md §8.1). `camera.url` is ""
 * — there is no camera.
 */
const STAND_INS: StandIns = {
  camera: { url: '' },
  processing: processingToSection(DEFAULT_MOTION_SETTINGS),
  alerting: alertingToSection(DEFAULT_ALARM_SETTINGS),
};

export = function (RED: NodeAPI): void {
  // Node-RED deletes a node's context at every redeploy when no persistent store is
  // configured: the slot's per-runtime copy keeps runtime changes across redeploys then too.
  const memory = new Map<string, Overrides>();
  /** node id + store already warned about (once per runtime: only a restart can change settings.js). */
  const warnedStore = new Set<string>();

  function VigilSystemNodeImpl(this: VigilSystemNode, config: SystemDef): void {
    RED.nodes.createNode(this, config);
    const s = scope(RED, this);
    const hub = new SystemHub({ clock: s.clock, name: config.name || config.id, standIns: STAND_INS });
    this.hub = hub;
    const store = (config.contextStore || '').trim() || undefined;
    const slot = contextSlot<Overrides>(this, memory, 'overrides', store);
    const due = storeWarningDue(warnedStore, this.id, (RED.settings as unknown as { contextStorage?: unknown }).contextStorage, store);
    if (due) this.warn(RED._('vigil-system.errors.notPersistent', { store: due.store, example: PERSISTENT_STORE_EXAMPLE }));

    const save = (): void => {
      const overrides = hub.exportOverrides();
      slot.save(Object.keys(overrides).length > 0 ? overrides : undefined, (err) => this.warn(RED._('vigil-system.errors.persist', { error: errorMessage(err) })));
    };
    s.listen(hub, 'config', save);
    s.listen(hub, 'overrides', save);

    // Runtime changes made before a restart or redeploy: re-applied to members whose editor
    // settings are unchanged (an editor deploy of changed settings wins).
    slot.load(
      (stored) => {
        if (!s.closed && stored) hub.importOverrides(stored);
      },
      (err) => this.warn(RED._('vigil-system.errors.restore', { error: errorMessage(err) })),
    );

    s.listen(hub, 'shutdown', (info: ShutdownInfo) => {
      if (info?.source !== 'command') return;
      if (!config.allowExit) {
        this.log(RED._('vigil-system.log.stopped'));
        return;
      }
      this.warn(RED._('vigil-system.log.exiting'));
      // Let the OK reply leave first; SIGINT makes Node-RED stop its flows and exit 0.
      s.after(500, () => process.kill(process.pid, 'SIGINT'));
    });
    s.listen(hub, 'start', () => this.log(RED._('vigil-system.log.started')));

    s.defer((removed) => {
      if (removed) slot.remember(undefined);
      hub.dispose();
    });
  }

  RED.nodes.registerType('vigil-system', VigilSystemNodeImpl);
};
