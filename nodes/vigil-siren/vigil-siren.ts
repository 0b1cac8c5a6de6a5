/**
 * vigil-siren: the SSH siren alerter (camera-alarm.md §6.3, fixed): one remote command
 * over ssh2 with key or password credentials, host-key pinning, a timeout and 3 tries
 * 3 s / 6 s apart. Thin adapter over lib/alarm/siren.ts and lib/alarm/alerter.ts.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { isValidAlerterName, parseAlert, retry, RetryAborted, skipReason, validateAlerterFlags, validateStrings } from '../../lib/alarm/alerter';
import { runSshCommand, SshError } from '../../lib/alarm/siren';
import type { Clock } from '../../lib/common/clock';
import type { SystemHub } from '../../lib/system/hub';
import type { ConfigError, ConfigSection } from '../../lib/system/types';
import { errorMessage, numberSetting } from '../util';

interface SirenDef extends NodeDef {
  system?: string;
  alerterName?: string;
  enabled?: boolean;
  testGroup?: boolean;
  host?: string;
  port?: number | string;
  username?: string;
  command?: string;
  fingerprint?: string;
  timeout?: number | string;
}

interface SirenCredentials {
  privateKey?: string;
  passphrase?: string;
  password?: string;
}

interface Live {
  enabled: boolean;
  testGroup: boolean;
  host: string;
  port: number;
  username: string;
  command: string;
  fingerprint: string;
  timeoutS: number;
}

const DEFAULT_SIREN_COMMAND = 'aplay siren.wav -d 21';

export = function (RED: NodeAPI): void {
  function VigilSirenNode(this: Node<SirenCredentials>, config: SirenDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- used in callbacks
    const node = this;
    const clock = (RED.settings as unknown as { vigilClock?: Clock }).vigilClock;
    const name = (config.alerterName || 'siren').trim();
    const prefix = ['alerters', name];
    const creds = node.credentials ?? {};
    const live: Live = {
      enabled: config.enabled !== false,
      testGroup: config.testGroup !== false,
      host: (config.host || '').trim(),
      port: Math.round(numberSetting(config.port, 22, 0, 1e9)),
      username: (config.username || '').trim(),
      command: (config.command ?? DEFAULT_SIREN_COMMAND).trim() || DEFAULT_SIREN_COMMAND,
      fingerprint: (config.fingerprint || '').trim(),
      timeoutS: numberSetting(config.timeout, 30, 0, 1e9),
    };
    const aborter = new AbortController();
    const running = new Set<Promise<unknown>>();
    const cleanups: Array<() => void> = [];

    const toSection = (l: Live): ConfigSection => ({
      enabled: l.enabled,
      test_grp: l.testGroup,
      ssh_host: l.host,
      ssh_port: l.port,
      ssh_user: l.username,
      command: l.command,
      host_fingerprint: l.fingerprint,
      timeout_s: l.timeoutS,
    });
    const validate = (p: ConfigSection): ConfigError[] => {
      const errors: ConfigError[] = [...validateAlerterFlags(p, prefix), ...validateStrings(p, ['ssh_host', 'ssh_user', 'command', 'host_fingerprint'], prefix)];
      if (p.ssh_port !== undefined && !(Number.isInteger(p.ssh_port) && (p.ssh_port as number) >= 1 && (p.ssh_port as number) <= 65535)) {
        errors.push({ loc: [...prefix, 'ssh_port'], msg: 'a port number 1–65535', type: 'value_error' });
      }
      if (p.timeout_s !== undefined && !(typeof p.timeout_s === 'number' && p.timeout_s >= 1 && p.timeout_s <= 600)) {
        errors.push({ loc: [...prefix, 'timeout_s'], msg: 'a number of seconds 1–600', type: 'value_error' });
      }
      if (typeof p.command === 'string' && p.command.trim() === '') errors.push({ loc: [...prefix, 'command'], msg: 'the command must not be empty', type: 'value_error' });
      return errors;
    };
    const apply = (p: ConfigSection): void => {
      live.enabled = p.enabled === true;
      live.testGroup = p.test_grp === true;
      if (typeof p.ssh_host === 'string') live.host = p.ssh_host.trim();
      if (typeof p.ssh_port === 'number') live.port = p.ssh_port;
      if (typeof p.ssh_user === 'string') live.username = p.ssh_user.trim();
      if (typeof p.command === 'string') live.command = p.command.trim();
      if (typeof p.host_fingerprint === 'string') live.fingerprint = p.host_fingerprint.trim();
      if (typeof p.timeout_s === 'number') live.timeoutS = p.timeout_s;
      showIdle();
    };

    const problem = (): string | undefined => {
      if (!isValidAlerterName(name)) return RED._('vigil-siren.errors.badName', { name });
      if (!live.host) return RED._('vigil-siren.errors.noHost');
      if (!live.username) return RED._('vigil-siren.errors.noUser');
      if (!creds.privateKey && !creds.password) return RED._('vigil-siren.errors.noAuth');
      const bad = validate(toSection(live));
      if (bad.length > 0) return bad.map((e) => `${e.loc.slice(2).join('.')}: ${e.msg}`).join('; ');
      return undefined;
    };
    const showIdle = (): void => {
      if (problem()) node.status({ fill: 'yellow', shape: 'ring', text: 'vigil-siren.status.notConfigured' });
      else if (!live.enabled) node.status({ fill: 'grey', shape: 'ring', text: 'vigil-siren.status.disabled' });
      else node.status({ fill: 'green', shape: 'ring', text: RED._('vigil-siren.status.ready', { host: live.host }) });
    };

    const sys = config.system ? (RED.nodes.getNode(config.system) as unknown as { hub?: SystemHub } | null) : null;
    const hub = sys?.hub;
    if (hub && isValidAlerterName(name)) {
      const section = `alerters.${name}`;
      try {
        cleanups.push(hub.register({ section, get: () => toSection(live), validate, apply }));
        cleanups.push(
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

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      const m = msg as NodeMessageInFlow & { payload?: unknown };
      const alert = parseAlert(m.payload);
      if (!alert) {
        done(new Error(RED._('vigil-siren.errors.badAlert')));
        return;
      }
      const skip = skipReason(alert, { name, enabled: live.enabled, testGroup: live.testGroup });
      if (skip) {
        node.debug(RED._(`vigil-siren.log.skip.${skip}`, { name }));
        node.status({ fill: 'grey', shape: 'ring', text: `vigil-siren.status.skip.${skip}` });
        done();
        return;
      }
      const p = problem();
      if (p) {
        done(new Error(p));
        return;
      }
      const target = { ...live };
      node.status({ fill: 'blue', shape: 'dot', text: 'vigil-siren.status.running' });
      let tries = 0;
      const job = retry(
        (n) => {
          tries = n;
          return runSshCommand({
            host: target.host,
            port: target.port,
            username: target.username,
            password: creds.password || undefined,
            privateKey: creds.privateKey || undefined,
            passphrase: creds.passphrase || undefined,
            command: target.command,
            fingerprint: target.fingerprint,
            timeoutMs: target.timeoutS * 1000,
            signal: aborter.signal,
          });
        },
        {
          clock,
          signal: aborter.signal,
          onRetry: (err, attempt, delay) => {
            node.status({ fill: 'yellow', shape: 'dot', text: RED._('vigil-siren.status.retrying', { attempt: attempt + 1 }) });
            node.log(RED._('vigil-siren.log.retry', { attempt, delay: delay / 1000, error: errorMessage(err) }));
          },
        },
      ).then(
        (r) => {
          send({ ...m, payload: { alerter: name, ok: true, message: alert.message, test: alert.test, host: target.host, code: r.code, fingerprint: r.fingerprint, tries } } as NodeMessage);
          node.status({ fill: 'green', shape: 'dot', text: 'vigil-siren.status.done' });
          done();
        },
        (err) => {
          if (err instanceof RetryAborted || (err instanceof SshError && err.code === 'aborted') || aborter.signal.aborted) {
            done();
            return;
          }
          const why = errorMessage(err);
          send({ ...m, payload: { alerter: name, ok: false, message: alert.message, test: alert.test, host: target.host, error: why, tries } } as NodeMessage);
          node.status({ fill: 'red', shape: 'dot', text: err instanceof SshError && err.code === 'hostkey' ? 'vigil-siren.status.hostKey' : 'vigil-siren.status.failed' });
          done(new Error(RED._('vigil-siren.errors.failed', { tries, error: why })));
        },
      );
      running.add(job);
      void job.finally(() => running.delete(job));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      aborter.abort();
      for (const c of cleanups.splice(0)) c();
      void Promise.allSettled([...running]).then(() => {
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType<Node<SirenCredentials>, SirenDef, unknown, SirenCredentials>('vigil-siren', VigilSirenNode, {
    credentials: { privateKey: { type: 'password' }, passphrase: { type: 'password' }, password: { type: 'password' } },
  });
};
