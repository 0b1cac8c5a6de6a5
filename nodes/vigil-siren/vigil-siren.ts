/**
 * vigil-siren: the SSH siren alerter (camera-alarm.md §6.3, fixed): one remote command
 * over ssh2 with key or password credentials, host-key pinning, a timeout and 3 tries
 * 3 s / 6 s apart. Thin adapter over lib/alarm/siren.ts, lib/alarm/alerter.ts and the
 * alerter wiring shared with vigil-telegram (nodes/alerter.ts).
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { retry } from '../../lib/alarm/alerter';
import { DEFAULT_SIREN_COMMAND, sirenSection, type SirenSettings } from '../../lib/alarm/section';
import { runSshCommand, SshError } from '../../lib/alarm/siren';
import { type AlerterDef, setupAlerter } from '../alerter';
import { errorMessage, readNumber } from '../kit';

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

export = function (RED: NodeAPI): void {
  function VigilSirenNode(this: Node<SirenCredentials>, config: SirenDef): void {
    RED.nodes.createNode(this, config);
    const creds = this.credentials ?? {};
    setupAlerter<SirenSettings>(RED, this, config, {
      type: 'vigil-siren',
      defaultName: 'siren',
      settings: {
        host: (config.host || '').trim(),
        port: readNumber(config.port, 22, { min: 0, max: 1e9, integer: true }),
        username: (config.username || '').trim(),
        command: (config.command ?? DEFAULT_SIREN_COMMAND).trim() || DEFAULT_SIREN_COMMAND,
        fingerprint: (config.fingerprint || '').trim(),
        timeoutS: readNumber(config.timeout, 30, { min: 0, max: 1e9 }),
      },
      // The SSH password/key stay where the editor sent them, and run only its command:
      // ssh_host/port/user/fingerprint and command change only there (lib/system/secrets.ts).
      heldSecrets: Boolean(creds.password || creds.privateKey),
      destinationKeys: ['command'],
      ...sirenSection,
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
