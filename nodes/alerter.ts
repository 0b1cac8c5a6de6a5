/**
 * What the alerter nodes (vigil-telegram, vigil-siren) share as Node-RED adapters
 * (docs/camera-alarm.md §6): the `alerters.<name>` section and the alerter registration on the
 * vigil-system hub, the idle status, the input handling (which alerts run, docs/camera-alarm.md §6.2), the retry
 * status/log lines and the close. Each alerter node gives only its own settings and
 * transport. Not a node type (no folder of its own); the framework-free parts are in
 * lib/alarm/alerter.ts.
 *
 * Catalog keys every alerter's `<type>.json` has: errors.badName, errors.badAlert,
 * status.notConfigured, status.disabled, status.ready, status.retrying,
 * status.skip.<reason>, log.skip.<reason>, log.retry.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Alert } from '../lib/alarm/alarm';
import { isValidAlerterName, parseAlert, RetryAborted, skipReason, validateAlerterFlags } from '../lib/alarm/alerter';
import type { Clock } from '../lib/common/clock';
import type { SystemHub } from '../lib/system/hub';
import type { ConfigError, ConfigSection, SectionMember } from '../lib/system/types';
import { type Done, errorMessage, scope, type Send, systemHub } from './kit';

/** The editor settings every alerter node has. */
export interface AlerterDef extends NodeDef {
  system?: string;
  alerterName?: string;
  enabled?: boolean;
  testGroup?: boolean;
}

/** The live settings: the two flags every alerter has plus its own (`S`). */
export type AlerterLive<S> = S & { enabled: boolean; testGroup: boolean };

/** What one alert run gets. */
export interface AlerterRun<S> {
  alert: Alert;
  msg: NodeMessageInFlow & { payload?: unknown };
  send: (m: NodeMessage) => void;
  done: (err?: Error) => void;
  /** A copy of the live settings taken when the alert arrived. */
  live: AlerterLive<S>;
  name: string;
  clock: Clock;
  hub: SystemHub | undefined;
  /** Aborted when the node closes. */
  signal: AbortSignal;
  /** True for the error of a run cancelled by the close (the run then just calls done()). */
  cancelled: (err: unknown) => boolean;
  /** Status "retrying (try n+1)" and the retry log line; `extra` adds catalog arguments. */
  onRetry: (err: unknown, attempt: number, delayMs: number, extra?: Record<string, string | number>) => void;
}

/** With the section's secret handling as the hub takes it (lib/system/types.ts `SectionMember`). */
export interface AlerterSpec<S> extends Pick<SectionMember, 'secretKeys' | 'heldSecrets' | 'destinationKeys'> {
  /** The node type, also the catalog prefix. */
  type: string;
  /** The alerter name when the editor leaves it empty. */
  defaultName: string;
  /** The initial own settings (from the editor settings and credentials). */
  settings: S;
  /** The own keys of the `alerters.<name>` section (after enabled / test_grp). */
  toSection: (l: AlerterLive<S>) => ConfigSection;
  /** Errors for the own keys of a section (the flags are checked here). */
  validate: (p: ConfigSection, prefix: Array<string | number>) => ConfigError[];
  /** Apply the own keys of a validated section. */
  apply: (p: ConfigSection, l: AlerterLive<S>) => void;
  /** What is missing for the alerter to work (a catalog text), checked before validation. */
  missing: (l: AlerterLive<S>) => string | undefined;
  /** Arguments of `status.ready`. */
  readyArgs: (l: AlerterLive<S>) => Record<string, string | number>;
  /** Deliver one alert: send one message and call done exactly once. */
  run: (r: AlerterRun<S>) => Promise<unknown>;
  /**
   * Messages other than alerts this alerter delivers too (vigil-telegram: a vigil-recorder
   * clip). They are skipped while the alerter is disabled and refused while it is not
   * configured, like alerts; `run` sends one message and calls done exactly once.
   */
  other?: { accepts: (msg: NodeMessageInFlow & { payload?: unknown }) => boolean; run: (r: Omit<AlerterRun<S>, 'alert'>) => Promise<unknown> };
}

/** Wire an alerter node: hub registration, status, input and close. */
export function setupAlerter<S extends object>(RED: NodeAPI, node: Node<object>, config: AlerterDef, spec: AlerterSpec<S>): void {
  const t = spec.type;
  const s = scope(RED, node);
  const name = (config.alerterName || spec.defaultName).trim();
  const prefix = ['alerters', name];
  const live: AlerterLive<S> = { enabled: config.enabled !== false, testGroup: config.testGroup !== false, ...spec.settings };

  const toSection = (l: AlerterLive<S>): ConfigSection => ({ enabled: l.enabled, test_grp: l.testGroup, ...spec.toSection(l) });
  const validate = (p: ConfigSection): ConfigError[] => [...validateAlerterFlags(p, prefix), ...spec.validate(p, prefix)];
  const apply = (p: ConfigSection): void => {
    live.enabled = p.enabled === true;
    live.testGroup = p.test_grp === true;
    spec.apply(p, live);
    showIdle();
  };

  const problem = (): string | undefined => {
    if (!isValidAlerterName(name)) return RED._(`${t}.errors.badName`, { name });
    const missing = spec.missing(live);
    if (missing) return missing;
    const bad = validate(toSection(live));
    if (bad.length > 0) return bad.map((e) => `${e.loc.slice(2).join('.')}: ${e.msg}`).join('; ');
    return undefined;
  };
  const showIdle = (): void => {
    if (problem()) node.status({ fill: 'yellow', shape: 'ring', text: `${t}.status.notConfigured` });
    else if (!live.enabled) node.status({ fill: 'grey', shape: 'ring', text: `${t}.status.disabled` });
    else node.status({ fill: 'green', shape: 'ring', text: RED._(`${t}.status.ready`, spec.readyArgs(live)) });
  };

  const hub = systemHub(RED, config.system);
  if (hub && isValidAlerterName(name)) {
    const section = `alerters.${name}`;
    try {
      s.defer(hub.register({ section, secretKeys: spec.secretKeys, heldSecrets: spec.heldSecrets, destinationKeys: spec.destinationKeys, get: () => toSection(live), validate, apply }));
      s.defer(
        hub.registerAlerter({
          name,
          get enabled() {
            return live.enabled;
          },
          set enabled(v: boolean) {
            live.enabled = v;
          },
          get testGroup() {
            return live.testGroup;
          },
          set testGroup(v: boolean) {
            live.testGroup = v;
          },
          setEnabled: (v: boolean) => {
            const errors = hub.updateSection(section, { enabled: v });
            if (errors.length > 0) node.warn(errors.map((e) => e.msg).join('; '));
          },
        }),
      );
    } catch (err) {
      node.error(errorMessage(err));
    }
  }
  const initial = problem();
  if (initial) node.warn(initial);
  showIdle();

  node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
    const m = msg as NodeMessageInFlow & { payload?: unknown };
    // Checked first: a clip's payload (its path) would otherwise read as a message string.
    const other = spec.other?.accepts(m) ? spec.other : undefined;
    const alert = other ? undefined : parseAlert(m.payload);
    if (!alert && !other) {
      done(new Error(RED._(`${t}.errors.badAlert`)));
      return;
    }
    const skip = alert ? skipReason(alert, { name, enabled: live.enabled, testGroup: live.testGroup }) : live.enabled ? undefined : 'disabled';
    if (skip) {
      node.debug(RED._(`${t}.log.skip.${skip}`, { name }));
      node.status({ fill: 'grey', shape: 'ring', text: `${t}.status.skip.${skip}` });
      done();
      return;
    }
    const p = problem();
    if (p) {
      done(new Error(p));
      return;
    }
    const args: Omit<AlerterRun<S>, 'alert'> = {
      msg: m,
      send,
      done,
      live: { ...live },
      name,
      clock: s.clock,
      hub,
      signal: s.signal,
      cancelled: (err) => err instanceof RetryAborted || s.signal.aborted,
      onRetry: (err, attempt, delayMs, extra) => {
        node.status({ fill: 'yellow', shape: 'dot', text: RED._(`${t}.status.retrying`, { attempt: attempt + 1 }) });
        node.log(RED._(`${t}.log.retry`, { attempt, delay: delayMs / 1000, ...extra, error: errorMessage(err) }));
      },
    };
    const job = alert ? spec.run({ alert, ...args }) : (other as NonNullable<typeof other>).run(args);
    // A throw inside the run's result handlers must not become an unhandled rejection (which ends Node-RED).
    void s.track(job.catch((err: unknown) => node.error(errorMessage(err), msg)));
  });
}
