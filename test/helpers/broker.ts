/**
 * A real MQTT broker on loopback for tests: Debian's `mosquitto` when it is installed (CI
 * installs it), else aedes from npm in a child process (test/helpers/aedes-broker.mjs), so the
 * tests never skip. `VIGIL_BROKER=mosquitto|aedes` forces one. Each broker gets its own config
 * and persistence folder; `restart()` stops it gracefully (retained messages saved) and starts
 * it again on the same port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { env } from './nodered-env';
import { freePort } from './ports';

export interface Broker {
  readonly kind: 'mosquitto' | 'aedes';
  readonly port: number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function mosquittoPath(): string | undefined {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto']) if (fs.existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}


function waitForPort(port: number, child: ChildProcess, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let tries = 0;
    const attempt = (): void => {
      if (child.exitCode !== null) return reject(new Error(`broker exited (${child.exitCode}): ${lines.slice(-5).join(' | ')}`));
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (++tries > 200) reject(new Error(`broker not listening on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export interface BrokerOptions {
  /**
   * mosquitto's per-client queue of QoS 1/2 messages beyond the in-flight ones (its default
   * 1000: a subscriber that falls further behind a burst loses the rest). The bench raises it.
   */
  maxQueuedMessages?: number;
}

export async function startBroker(log: (s: string) => void = () => undefined, opts: BrokerOptions = {}): Promise<Broker> {
  const forced = process.env.VIGIL_BROKER;
  const mosq = forced === 'aedes' ? undefined : mosquittoPath();
  if (forced === 'mosquitto' && !mosq) throw new Error('VIGIL_BROKER=mosquitto but no mosquitto binary is installed');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-broker-'));
  const lines: string[] = [];
  let port = 0;
  let child: ChildProcess;

  const launch = async (): Promise<void> => {
    if (mosq) {
      if (!port) port = await freePort();
      fs.writeFileSync(
        path.join(dir, 'mosquitto.conf'),
        [`listener ${port} 127.0.0.1`, 'allow_anonymous true', // as root mosquitto would switch to its own user, which cannot write this folder
          ...(process.getuid?.() === 0 ? ['user root'] : []), 'persistence true', `persistence_location ${dir}/`, 'autosave_interval 1',
          ...(opts.maxQueuedMessages !== undefined ? [`max_queued_messages ${opts.maxQueuedMessages}`] : []), 'log_dest stdout', 'log_type error', 'log_type warning', ''].join('\n'),
      );
      child = spawn(mosq, ['-c', path.join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
      for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
      await waitForPort(port, child, lines);
    } else {
      const script = path.join(__dirname, 'aedes-broker.mjs');
      child = spawn(process.execPath, [script, String(port), path.join(dir, 'retained.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
      const bound = await new Promise<number>((resolve, reject) => {
        const onData = (d: Buffer): void => {
          lines.push(...d.toString().split('\n').filter(Boolean));
          const m = lines.map((l) => /^listening (\d+)/.exec(l)).find(Boolean);
          if (m) resolve(Number(m[1]));
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`aedes broker exited (${code}): ${lines.slice(-5).join(' | ')}`)));
      });
      port = bound;
    }
    log(`[broker] ${mosq ? `mosquitto (${mosq})` : 'aedes (npm)'} on 127.0.0.1:${port}`);
  };
  await launch();
  return {
    kind: mosq ? 'mosquitto' : 'aedes',
    get port() {
      return port;
    },
    async restart() {
      await env.stopChild(child);
      await launch();
    },
    async stop() {
      await env.stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
