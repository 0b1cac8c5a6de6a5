/**
 * vigil-system (config node): one monitored camera system. Owns a SystemHub
 * (lib/system/hub.ts) that joins the camera, motion, alarm, alerter and API nodes that
 * select it, and persists runtime configuration changes in its node context.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { SystemHub, type ShutdownInfo } from '../../lib/system/hub';
import { PERSISTENT_STORE_EXAMPLE, storeWarningDue } from '../../lib/system/store';
import { errorMessage, flowClock } from '../util';

interface SystemDef extends NodeDef {
  allowExit?: boolean;
  contextStore?: string;
}

interface VigilSystemNode extends Node {
  hub: SystemHub;
}

const OVERRIDES_KEY = 'overrides';

export = function (RED: NodeAPI): void {
  // Node-RED deletes a node's context at every redeploy when no context store is configured;
  // this per-runtime copy keeps runtime changes across redeploys in that case too.
  const memory = new Map<string, unknown>();
  /** node id + store already warned about (once per runtime: only a restart can change settings.js). */
  const warnedStore = new Set<string>();

  function VigilSystemNode(this: VigilSystemNode, config: SystemDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- used in callbacks
    const node = this;
    const clock = flowClock(RED);
    const hub = new SystemHub({ clock, name: config.name || config.id });
    node.hub = hub;
    const store = (config.contextStore || '').trim() || undefined;
    const ctx = node.context();
    const due = storeWarningDue(warnedStore, node.id, (RED.settings as unknown as { contextStorage?: unknown }).contextStorage, store);
    if (due) node.warn(RED._('vigil-system.errors.notPersistent', { store: due.store, example: PERSISTENT_STORE_EXAMPLE }));
    let closed = false;
    let exitTimer: NodeJS.Timeout | undefined;

    const save = (): void => {
      if (closed) return;
      const overrides = hub.exportOverrides();
      const value = Object.keys(overrides).length > 0 ? overrides : undefined;
      if (value) memory.set(node.id, value);
      else memory.delete(node.id);
      ctx.set(OVERRIDES_KEY, value, store, (err?: Error) => {
        if (err) node.warn(RED._('vigil-system.errors.persist', { error: errorMessage(err) }));
      });
    };
    hub.on('config', save);
    hub.on('overrides', save);

    // Runtime changes made before a restart or redeploy: re-applied to members whose editor
    // settings are unchanged (an editor deploy of changed settings wins).
    try {
      ctx.get(OVERRIDES_KEY, store, (err: Error | undefined, value: unknown) => {
        if (closed) return;
        if (err) node.warn(RED._('vigil-system.errors.restore', { error: errorMessage(err) }));
        const stored = (err ? undefined : value) ?? memory.get(node.id);
        if (stored) hub.importOverrides(stored);
      });
    } catch (err) {
      node.warn(RED._('vigil-system.errors.restore', { error: errorMessage(err) }));
    }

    hub.on('shutdown', (info: ShutdownInfo) => {
      if (info?.source !== 'command') return;
      if (config.allowExit) {
        node.warn(RED._('vigil-system.log.exiting'));
        // Let the OK reply leave first; SIGINT makes Node-RED stop its flows and exit 0.
        exitTimer = setTimeout(() => process.kill(process.pid, 'SIGINT'), 500);
      } else {
        node.log(RED._('vigil-system.log.stopped'));
      }
    });
    hub.on('start', () => {
      if (!closed) node.log(RED._('vigil-system.log.started'));
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      if (removed) memory.delete(node.id);
      if (exitTimer) clearTimeout(exitTimer);
      hub.dispose();
      done();
    });
  }

  RED.nodes.registerType('vigil-system', VigilSystemNode);
};
