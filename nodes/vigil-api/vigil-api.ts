/**
 * vigil-api: the reference app's websocket/HTTP API (camera-alarm.md §8) for one
 * vigil-system, on its own port or mounted on Node-RED's server. Thin adapter over
 * lib/api/server.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { ApiServer, DEFAULT_FLAGS, type ApiFlags, type ApiStats } from '../../lib/api/server';
import { serverSection } from '../../lib/api/section';
import type { ApiHub } from '../../lib/api/types';
import { RateLimitedWarner } from '../../lib/common/warn';
import { errorMessage, flowClock, numberSetting } from '../util';

interface ApiDef extends NodeDef {
  system?: string;
  listen?: 'port' | 'node-red';
  host?: string;
  port?: number | string;
  path?: string;
}

interface ApiCredentials {
  token?: string;
}

type Handler = (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void) => void;

interface Layer {
  route?: { stack?: Array<{ handle?: unknown }> };
}

/** Mount paths taken on Node-RED's server (one API per path). */
const mounted = new Set<string>();

/** The reference's `flags`, describing this Node-RED honestly: no config file, no flags; its log level. */
function flagsOf(RED: NodeAPI): ApiFlags {
  const logging = (RED.settings as unknown as { logging?: { console?: { level?: unknown } } }).logging;
  const level = logging?.console?.level;
  return { ...DEFAULT_FLAGS, log_level: typeof level === 'string' && level !== '' ? level : DEFAULT_FLAGS.log_level };
}

function joinPath(root: string, p: string): string {
  const a = root.replace(/\/+$/, '');
  const b = ('/' + p.trim()).replace(/\/+/g, '/').replace(/\/+$/, '');
  return a + b || '/';
}

export = function (RED: NodeAPI): void {
  function VigilApiNode(this: Node<ApiCredentials>, config: ApiDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the node is used in callbacks
    const node = this;
    const listen = config.listen === 'node-red' ? 'node-red' : 'port';
    const host = (config.host || '127.0.0.1').trim();
    const port = Math.round(numberSetting(config.port, 9876, 1, 65535));
    const token = node.credentials?.token || undefined;
    const cleanups: Array<() => void> = [];
    let api: ApiServer | undefined;
    let where = '';

    const sys = config.system ? (RED.nodes.getNode(config.system) as unknown as { hub?: ApiHub } | null) : null;
    const hub = sys?.hub;
    if (!hub) {
      node.status({ fill: 'red', shape: 'ring', text: 'vigil-api.status.noSystem' });
      node.error(RED._('vigil-api.errors.noSystem'));
      node.on('close', (_removed: boolean, done: () => void) => done());
      return;
    }

    const showStatus = (s?: ApiStats['clients']): void => {
      const c = s ?? api?.stats().clients ?? { root: 0, metrics: 0, video: 0 };
      const n = c.root + c.metrics + c.video;
      node.status({ fill: 'green', shape: n > 0 ? 'dot' : 'ring', text: RED._('vigil-api.status.listening', { where, clients: n }) });
    };

    try {
      let basePath = '';
      if (listen === 'node-red') {
        const root = typeof RED.settings.httpNodeRoot === 'string' ? RED.settings.httpNodeRoot : '/';
        const p = (config.path || '/vigil').trim();
        if (!p.startsWith('/') || /[?#\s]/.test(p)) throw new Error(RED._('vigil-api.errors.badPath', { path: p }));
        basePath = joinPath(root, p);
        if (basePath === '/' || basePath === '') throw new Error(RED._('vigil-api.errors.badPath', { path: p }));
        if (mounted.has(basePath)) throw new Error(RED._('vigil-api.errors.pathInUse', { path: basePath }));
      }
      // A flow-wide fake clock for tests, like vigil-system's (settings.vigilClock).
      const clock = flowClock(RED);
      const flags = flagsOf(RED);
      api = new ApiServer({ hub, token, basePath, clock, flags: () => flags });
    } catch (err) {
      node.status({ fill: 'red', shape: 'ring', text: 'vigil-api.status.error' });
      node.error(errorMessage(err));
      node.on('close', (_removed: boolean, done: () => void) => done());
      return;
    }
    const server = api;
    // Anything a client can repeat (refused tokens, a failing handler) is warned rate-limited.
    const warner = new RateLimitedWarner((line) => node.warn(line), { clock: flowClock(RED) });
    cleanups.push(() => warner.dispose());
    server.on('error', (err: unknown) => warner.warn('error', errorMessage(err)));
    server.on('refused', (from: string) => warner.warn('refused', RED._('vigil-api.errors.refused', { from })));
    server.on('clients', (c: ApiStats['clients']) => showStatus(c));

    try {
      cleanups.push(
        hub.register(
          serverSection(() => ({
            host: listen === 'port' ? host : String(RED.settings.uiHost ?? '0.0.0.0'),
            port: listen === 'port' ? port : Number(RED.settings.uiPort ?? 1880),
            path: server.basePath || undefined,
            videoSaveDir: hub.clipStore?.folder ?? '',
          })),
        ),
      );
    } catch (err) {
      // Another vigil-api already serves this system: this one still serves, without owning `server`.
      node.warn(errorMessage(err));
    }

    if (listen === 'port') {
      where = `:${port}`;
      node.status({ fill: 'yellow', shape: 'ring', text: 'vigil-api.status.starting' });
      server.listen(port, host).then(
        () => showStatus(),
        (err: unknown) => {
          node.status({ fill: 'red', shape: 'ring', text: 'vigil-api.status.error' });
          node.error(RED._('vigil-api.errors.listen', { where: `${host}:${port}`, error: errorMessage(err) }));
        },
      );
    } else {
      const basePath = server.basePath;
      where = basePath;
      mounted.add(basePath);
      cleanups.push(() => mounted.delete(basePath));
      const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
        server.handleUpgrade(req, socket, head);
      };
      RED.server.on('upgrade', onUpgrade);
      cleanups.push(() => RED.server.off('upgrade', onUpgrade));
      const handler: Handler = (req, res, next) => {
        if (!server.handleRequest(req, res)) next();
      };
      const rel = joinPath('/', config.path || '/vigil');
      const routes = [rel, `${rel}/`, `${rel}/health`, `${rel}/snapshot`, `${rel}/config`, `${rel}/static/:file`, `${rel}/clips`, `${rel}/clips/:name`];
      for (const r of routes) {
        RED.httpNode.get(r, handler);
        RED.httpNode.options(r, handler);
      }
      cleanups.push(() => {
        const app = RED.httpNode as unknown as { _router?: { stack: Layer[] }; router?: { stack: Layer[] } };
        const stack = app._router?.stack ?? app.router?.stack;
        if (!stack) return;
        for (let i = stack.length - 1; i >= 0; i--) {
          if (stack[i].route?.stack?.some((l) => l.handle === handler)) stack.splice(i, 1);
        }
      });
      showStatus();
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      for (const c of cleanups.splice(0)) {
        try {
          c();
        } catch {
          // keep closing
        }
      }
      server.close().then(
        () => {
          node.status({});
          done();
        },
        () => done(),
      );
    });
  }

  RED.nodes.registerType<Node<ApiCredentials>, ApiDef, unknown, ApiCredentials>('vigil-api', VigilApiNode, {
    credentials: { token: { type: 'password' } },
  });
};
