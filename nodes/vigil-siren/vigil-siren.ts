/**
 * vigil-siren: the SSH siren alerter (camera-alarm.md §6.3, fixed): one remote command
 * over ssh2 with key or password credentials, host-key pinning, a timeout and 3 tries
 * 3 s / 6 s apart. Thin adapter over lib/alarm/siren.ts, lib/alarm/alerter.ts and the
 * alerter wiring shared with vigil-telegram (nodes/alerter.ts).
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { retry, validateStrings } from '../../lib/alarm/alerter';
import { runSshCommand, SshError } from '../../lib/alarm/siren';
import type { ConfigError } from '../../lib/system/types';
import { type AlerterDef, setupAlerter } from '../alerter';
import { errorMessage, numberSetting } from '../util';

interface SirenDef extends AlerterDef {
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

interface Settings {
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
    const creds = this.credentials ?? {};
    setupAlerter<Settings>(RED, this, config, {
      type: 'vigil-siren',
      defaultName: 'siren',
      settings: {
        host: (config.host || '').trim(),
        port: Math.round(numberSetting(config.port, 22, 0, 1e9)),
        username: (config.username || '').trim(),
        command: (config.command ?? DEFAULT_SIREN_COMMAND).trim() || DEFAULT_SIREN_COMMAND,
        fingerprint: (config.fingerprint || '').trim(),
        timeoutS: numberSetting(config.timeout, 30, 0, 1e9),
      },
      // The SSH password/key stay where the editor sent them: ssh_host/port/user/fingerprint change only there.
      heldSecrets: Boolean(creds.password || creds.privateKey),
      toSection: (l) => ({
        ssh_host: l.host,
        ssh_port: l.port,
        ssh_user: l.username,
        command: l.command,
        host_fingerprint: l.fingerprint,
        timeout_s: l.timeoutS,
      }),
      validate: (p, prefix) => {
        const errors: ConfigError[] = validateStrings(p, ['ssh_host', 'ssh_user', 'command', 'host_fingerprint'], prefix);
        if (p.ssh_port !== undefined && !(Number.isInteger(p.ssh_port) && (p.ssh_port as number) >= 1 && (p.ssh_port as number) <= 65535)) {
          errors.push({ loc: [...prefix, 'ssh_port'], msg: 'a port number 1–65535', type: 'value_error' });
        }
        if (p.timeout_s !== undefined && !(typeof p.timeout_s === 'number' && p.timeout_s >= 1 && p.timeout_s <= 600)) {
          errors.push({ loc: [...prefix, 'timeout_s'], msg: 'a number of seconds 1–600', type: 'value_error' });
        }
        if (typeof p.command === 'string' && p.command.trim() === '') errors.push({ loc: [...prefix, 'command'], msg: 'the command must not be empty', type: 'value_error' });
        return errors;
      },
      apply: (p, l) => {
        if (typeof p.ssh_host === 'string') l.host = p.ssh_host.trim();
        if (typeof p.ssh_port === 'number') l.port = p.ssh_port;
        if (typeof p.ssh_user === 'string') l.username = p.ssh_user.trim();
        if (typeof p.command === 'string') l.command = p.command.trim();
        if (typeof p.host_fingerprint === 'string') l.fingerprint = p.host_fingerprint.trim();
        if (typeof p.timeout_s === 'number') l.timeoutS = p.timeout_s;
      },
      missing: (l) => {
        if (!l.host) return RED._('vigil-siren.errors.noHost');
        if (!l.username) return RED._('vigil-siren.errors.noUser');
        if (!creds.privateKey && !creds.password) return RED._('vigil-siren.errors.noAuth');
        return undefined;
      },
      readyArgs: (l) => ({ host: l.host }),
      run: ({ alert, msg, send, done, live: target, name, clock, signal, cancelled, onRetry }) => {
        this.status({ fill: 'blue', shape: 'dot', text: 'vigil-siren.status.running' });
        let tries = 0;
        return retry(
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
              signal,
              clock,
            });
          },
          { clock, signal, onRetry },
        ).then(
          (r) => {
            send({ ...msg, payload: { alerter: name, ok: true, message: alert.message, test: alert.test, host: target.host, code: r.code, fingerprint: r.fingerprint, tries } } as NodeMessage);
            this.status({ fill: 'green', shape: 'dot', text: 'vigil-siren.status.done' });
            done();
          },
          (err) => {
            if (cancelled(err) || (err instanceof SshError && err.code === 'aborted')) {
              done();
              return;
            }
            const why = errorMessage(err);
            send({ ...msg, payload: { alerter: name, ok: false, message: alert.message, test: alert.test, host: target.host, error: why, tries } } as NodeMessage);
            this.status({ fill: 'red', shape: 'dot', text: err instanceof SshError && err.code === 'hostkey' ? 'vigil-siren.status.hostKey' : 'vigil-siren.status.failed' });
            done(new Error(RED._('vigil-siren.errors.failed', { tries, error: why })));
          },
        );
      },
    });
  }

  RED.nodes.registerType<Node<SirenCredentials>, SirenDef, unknown, SirenCredentials>('vigil-siren', VigilSirenNode, {
    credentials: { privateKey: { type: 'password' }, passphrase: { type: 'password' }, password: { type: 'password' } },
  });
};
