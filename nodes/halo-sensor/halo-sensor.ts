/**
 * halo-sensor (config node): one physical HALO's Event Data URL — address, TLS, auth and
 * paths. It owns the one HTTP client for that HALO, so every halo-poll using it shares the
 * single-flight queue and the one-request-per-second ceiling (lib/halo/client.ts).
 */
import type { NodeAPI, NodeDef } from 'node-red';
import { systemClock } from '../../lib/common/clock';
import { HaloHttpClient, type HaloAuthMode } from '../../lib/halo/client';
import { flowClock, LOGIN_CREDENTIALS, type LoginCredentials, readNumber } from '../kit';
import type { HaloSensorNode } from './sensor-types';

interface SensorDef extends NodeDef {
  host?: string;
  port?: number | string;
  https?: boolean;
  rejectUnauthorized?: boolean;
  auth?: string;
  eventsPath?: string;
  thresholdsPath?: string;
  timeout?: number | string;
}

const AUTH_MODES: readonly HaloAuthMode[] = ['auto', 'basic', 'digest', 'none'];

function path(p: string | undefined, fallback: string): string {
  const t = (p ?? '').trim();
  if (t === '') return fallback;
  return t.startsWith('/') ? t : `/${t}`;
}

export = function (RED: NodeAPI): void {
  function HaloSensor(this: HaloSensorNode, config: SensorDef): void {
    RED.nodes.createNode(this, config);
    const useHttps = config.https !== false;
    const host = (config.host ?? '').trim();
    const port = readNumber(config.port, useHttps ? 443 : 80, { min: 1, max: 65535, integer: true });
    const auth = AUTH_MODES.includes(config.auth as HaloAuthMode) ? (config.auth as HaloAuthMode) : 'auto';
    this.deviceName = (config.name ?? '').trim() || host || 'HALO';
    this.eventsPath = path(config.eventsPath, '/api/config/gstate/event_state');
    this.thresholdsPath = (config.thresholdsPath ?? '').trim() === '' && config.thresholdsPath !== undefined ? '' : path(config.thresholdsPath, '/api/config/gstate/config/eventgen/events');
    this.configError = host === '' ? RED._('halo-sensor.errors.noHost') : '';
    this.client = new HaloHttpClient({
      host: host || '127.0.0.1',
      port,
      https: useHttps,
      rejectUnauthorized: config.rejectUnauthorized === true,
      auth,
      username: this.credentials?.username ?? '',
      password: this.credentials?.password ?? '',
      timeoutMs: readNumber(config.timeout, 5, { min: 1, max: 60 }) * 1000,
      clock: flowClock(RED) ?? systemClock,
    });
    this.on('close', (_removed: boolean, done: () => void) => {
      this.client.close();
      done();
    });
  }

  RED.nodes.registerType<HaloSensorNode, SensorDef, unknown, LoginCredentials>('halo-sensor', HaloSensor, {
    credentials: LOGIN_CREDENTIALS,
  });
};
