/**
 * vigil-api: the camera alarm's websocket/HTTP API (docs/camera-alarm.md §8) for one
 * vigil-system, on its own port or mounted on Node-RED's server. Thin adapter over
 * lib/api/server.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { serverSection } from '../../lib/api/section';
import { ApiServer, DEFAULT_FLAGS, type ApiFlags, type ApiStats } from '../../lib/api/server';
import { RateLimitedWarner } from '../../lib/common/warn';
import { errorMessage, mountRoute, readNumber, refuse, scope, systemHub } from '../kit';

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

/** Mount paths taken on Node-RED's server (one API per path). */
const mounted = new Set<string>();

function joinPath(root: string, p: string): string {
  const a = root.replace(/\/+$/, '');
  const b = ('/' + p.trim()).replace(/\/+/g, '/').replace(/\/+$/, '');
  return a + b || '/';
}

/** The `flags` section (docs/camera-alarm.md §1.1), describing this Node-RED honestly: no config file, no flags; its log level. */
function flagsOf(RED: NodeAPI): ApiFlags {
  const level = (RED.settings as unknown as { logging?: { console?: { level?: unknown } } }).logging?.console?.level;
  return { ...DEFAULT_FLAGS, log_level: typeof level === 'string' && level !== '' ? level : DEFAULT_FLAGS.log_level };
}

export = function (RED: NodeAPI): void {
  function VigilApiNode(this: Node<ApiCredentials>, config: ApiDef): void {
    RED.nodes.createNode(this, config);
    const listen = config.listen === 'node-red' ? 'node-red' : 'port';
    const host = (config.host || '127.0.0.1').trim();
    // 0 lets the OS pick a free port, shown in the status (how tests avoid a port race).
    let port = readNumber(config.port, 9876, { min: 0, max: 65535, integer: true });
    const hub = systemHub(RED, config.system);
    if (!hub) return refuse(this, RED._('vigil-api.errors.noSystem'), 'vigil-api.status.noSystem');

    let basePath = '';
    if (listen === 'node-red') {
      const root = typeof RED.settings.httpNodeRoot === 'string' ? RED.settings.httpNodeRoot : '/';
      const p = (config.path || '/vigil').trim();
      basePath = joinPath(root, p);
      if (!p.startsWith('/') || /[?#\s]/.test(p) || basePath === '/') return refuse(this, RED._('vigil-api.errors.badPath', { path: p }), 'vigil-api.status.error');
      if (mounted.has(basePath)) return refuse(this, RED._('vigil-api.errors.pathInUse', { path: basePath }), 'vigil-api.status.error');
    }
    const s = scope(RED, this);
    const flags = flagsOf(RED);
    const server = new ApiServer({ hub, token: this.credentials?.token || undefined, basePath, clock: s.clock, flags: () => flags });
    s.defer(() => server.close());
    // Anything a client can repeat (refused tokens, a failing handler) is warned rate-limited.
    const warner = new RateLimitedWarner((line) => this.warn(line), { clock: s.clock });
    s.defer(() => warner.dispose());
    let where = '';
    const showStatus = (c: ApiStats['clients'] = server.stats().clients): void => {
      const n = c.root + c.metrics + c.video;
      this.status({ fill: 'green', shape: n > 0 ? 'dot' : 'ring', text: RED._('vigil-api.status.listening', { where, clients: n }) });
    };
    s.listen(server, 'error', (err: unknown) => warner.warn('error', errorMessage(err)));
    s.listen(server, 'refused', (from: string) => warner.warn('refused', RED._('vigil-api.errors.refused', { from })));
    s.listen(server, 'clients', (c: ApiStats['clients']) => {
      if (where) showStatus(c); // not before it listens (a green status would name no port yet)
    });

    try {
      s.defer(
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
      this.warn(errorMessage(err));
    }

    if (listen === 'port') {
      this.status({ fill: 'yellow', shape: 'ring', text: 'vigil-api.status.starting' });
      server.listen(port, host).then(
        (bound) => {
          port = bound;
          where = `:${bound}`;
          // The bound port (the OS's pick for 0), for whoever holds the node object: tests.
          (this as Node<ApiCredentials> & { boundPort?: number }).boundPort = bound;
          if (!s.closed) showStatus();
        },
        (err: unknown) => {
          if (s.closed) return;
          this.status({ fill: 'red', shape: 'ring', text: 'vigil-api.status.error' });
          this.error(RED._('vigil-api.errors.listen', { where: `${host}:${port}`, error: errorMessage(err) }));
        },
      );
      return;
    }
    where = basePath;
    mounted.add(basePath);
    s.defer(() => mounted.delete(basePath));
    s.listen(RED.server, 'upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => server.handleUpgrade(req, socket, head));
    const rel = joinPath('/', config.path || '/vigil');
    const routes = [rel, `${rel}/`, `${rel}/health`, `${rel}/snapshot`, `${rel}/config`, `${rel}/static/:file`, `${rel}/clips`, `${rel}/clips/:name`];
    const handler = (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void): void => {
      if (!server.handleRequest(req, res)) next();
    };
    s.defer(mountRoute(RED, ['get', 'options'], routes, handler));
    showStatus();
  }

  RED.nodes.registerType<Node<ApiCredentials>, ApiDef, unknown, ApiCredentials>('vigil-api', VigilApiNode, {
    credentials: { token: { type: 'password' } },
  });
};
