/**
 * halo-in: receives what HALOs push — set/reset event strings and heartbeats — over TCP,
 * UDP or HTTP (a route on Node-RED's own HTTP server). Thin adapter over lib/halo/input.ts:
 * settings → HaloInput, its messages → the two outputs, warnings and status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { systemClock, type TimerHandle } from '../../lib/common/clock';
import { RECOMMENDED_TEMPLATES, type HaloFormat } from '../../lib/halo/decode';
import { HaloInput, templatesSplitByFraming, type HaloInputOptions, type HaloOutMessage, type HaloTransport, type HaloWarning } from '../../lib/halo/input';
import type { HaloFraming } from '../../lib/halo/receiver';
import { errorMessage, flowClock, numberSetting } from '../util';

interface InDef extends NodeDef {
  transport?: string;
  host?: string;
  port?: number | string;
  path?: string;
  framing?: string;
  delimiter?: string;
  maxMessageBytes?: number | string;
  idleTimeout?: number | string;
  maxConnections?: number | string;
  format?: string;
  setTemplate?: string;
  resetTemplate?: string;
  heartbeatTemplate?: string;
  allow?: string;
  heartbeatInterval?: number | string;
  missedHeartbeats?: number | string;
}

function oneOf<T extends string>(v: unknown, options: readonly T[], fallback: T): T {
  return options.includes(v as T) ? (v as T) : fallback;
}

/** Express adds `originalUrl`: the URL before the httpNodeRoot mount prefix was taken off `url`. */
type Handler = (req: IncomingMessage & { body?: unknown; originalUrl?: string }, res: ServerResponse, next: () => void) => void;

interface RouteLayer {
  route?: { stack?: Array<{ handle?: unknown }> };
}

interface ExpressLike {
  all(path: string, handler: Handler): void;
  _router?: { stack: RouteLayer[] };
  router?: { stack: RouteLayer[] };
}

/** Unknown-message warnings: at most one per sender address per this many ms. */
const UNKNOWN_WARN_EVERY_MS = 10000;

export = function (RED: NodeAPI): void {
  function HaloIn(this: Node, config: InDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- used in callbacks
    const node = this;
    const transport = oneOf<HaloTransport>(config.transport, ['tcp', 'udp', 'http'], 'tcp');
    const port = Math.round(numberSetting(config.port, 0, 0, 65535));
    const maxMessageBytes = Math.round(numberSetting(config.maxMessageBytes, 65536, 64, 16 * 1024 * 1024));
    let routePath = (config.path ?? '').trim();
    if (routePath !== '' && !routePath.startsWith('/')) routePath = `/${routePath}`;
    let core: HaloInput | undefined;
    let listenError = '';
    let closed = false;
    let statusTimer: TimerHandle | undefined;
    const unknownWarned = new Map<string, number>();

    const render = (): void => {
      statusTimer = undefined;
      if (closed) return;
      if (!core || listenError) {
        node.status({ fill: 'red', shape: 'ring', text: listenError || RED._('halo-in.status.error') });
        return;
      }
      const where = transport === 'http' ? routePath : `:${core.port ?? port}`;
      let text = RED._('halo-in.status.listening', { transport, where, devices: core.deviceCount });
      if (core.lastEvent) text += ` · ${core.lastEvent}`;
      if (core.refusedCount > 0) text += ` · ${RED._('halo-in.status.refused', { count: core.refusedCount })}`;
      node.status({ fill: core.refusedCount > 0 ? 'yellow' : 'green', shape: 'dot', text });
    };
    // Status is shown at most every 250 ms, however fast messages arrive.
    const changed = (): void => {
      if (statusTimer === undefined && !closed) statusTimer = systemClock.setTimeout(render, 250);
    };

    const warn = (w: HaloWarning): void => {
      switch (w.code) {
        case 'oversize':
          node.warn(RED._('halo-in.warn.oversize', { remote: w.remote, bytes: w.bytes, max: w.max }));
          break;
        case 'unknown': {
          const address = w.remote.replace(/:\d+$/, '');
          const now = systemClock.now();
          const last = unknownWarned.get(address);
          if (last !== undefined && now - last < UNKNOWN_WARN_EVERY_MS) break;
          if (unknownWarned.size > 1000) unknownWarned.clear();
          unknownWarned.set(address, now);
          node.warn(RED._('halo-in.warn.unknown', { remote: w.remote, reason: w.reason }));
          break;
        }
        case 'refused':
          node.warn(RED._('halo-in.warn.refused', { address: w.address }));
          break;
        case 'capacity':
          node.warn(RED._('halo-in.warn.capacity', { remote: w.remote, max: w.max }));
          break;
        case 'socket':
          node.warn(RED._('halo-in.warn.socket', { error: w.message }));
          break;
      }
    };

    const toMsg = (m: HaloOutMessage): NodeMessage => {
      const msg: NodeMessage & { raw?: string } = { topic: m.topic, payload: m.payload };
      if (m.raw !== undefined) msg.raw = m.raw;
      return msg;
    };

    try {
      if (transport !== 'http' && !(port >= 1)) throw new Error(RED._('halo-in.errors.noPort'));
      if (transport === 'http' && routePath === '') throw new Error(RED._('halo-in.errors.noPath'));
      const options: HaloInputOptions = {
        transport,
        host: config.host,
        port,
        framing: oneOf<HaloFraming>(config.framing, ['newline', 'delimiter', 'json', 'close'], 'newline'),
        delimiter: config.delimiter,
        maxMessageBytes,
        idleTimeoutMs: numberSetting(config.idleTimeout, 300, 0, 86400) * 1000,
        maxConnections: Math.round(numberSetting(config.maxConnections, 100, 1, 100000)),
        format: oneOf<HaloFormat>(config.format, ['auto', 'json', 'template'], 'auto'),
        // Not set at all (e.g. a flow written by hand): the recommended strings; '' = none.
        setTemplate: config.setTemplate ?? RECOMMENDED_TEMPLATES.set,
        resetTemplate: config.resetTemplate ?? RECOMMENDED_TEMPLATES.reset,
        heartbeatTemplate: config.heartbeatTemplate ?? RECOMMENDED_TEMPLATES.heartbeat,
        allow: config.allow,
        heartbeatIntervalMs: numberSetting(config.heartbeatInterval, 60, 0, 86400) * 1000,
        missedHeartbeats: Math.round(numberSetting(config.missedHeartbeats, 3, 1, 1000)),
        // Idle timeout and watchdog time; a flow-wide FakeClock in tests (settings.vigilClock).
        clock: flowClock(RED) ?? systemClock,
      };
      core = new HaloInput(
        options,
        {
          event: (m) => node.send([toMsg(m), null]),
          health: (m) => node.send([null, toMsg(m)]),
          warn,
          changed,
        },
      );
      // %ALLSENSORSNL% puts line breaks inside the message: newline framing would cut it up.
      for (const kind of templatesSplitByFraming(options)) {
        node.warn(RED._('halo-in.warn.allSensorsNL', { template: RED._(`halo-in.label.${kind}Template`) }));
      }
    } catch (e) {
      listenError = errorMessage(e);
      node.error(RED._('halo-in.errors.config', { error: listenError }));
      render();
    }

    let handler: Handler | undefined;
    const app = RED.httpNode as unknown as ExpressLike | undefined;
    if (core && transport === 'http') {
      const input = core;
      if (!app || typeof app.all !== 'function') {
        listenError = RED._('halo-in.errors.noHttp');
        node.error(listenError);
        render();
      } else {
        handler = (req, res, next) => {
          const method = (req.method ?? 'GET').toUpperCase();
          if (method !== 'GET' && method !== 'POST' && method !== 'PUT') return next();
          const answer = (status: number): void => {
            res.statusCode = status;
            res.setHeader('Content-Type', 'text/plain; charset=utf-8');
            res.end(status === 200 ? 'OK\n' : `${status}\n`);
          };
          const handle = (body: string): void => {
            // The full path as the HALO sent it: `req.url` has lost the httpNodeRoot prefix
            // (e.g. /api) that the strings typed on the HALO carry.
            const status = input.handleHttp({ method, url: req.originalUrl ?? req.url ?? '/', body, remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort });
            answer(status);
          };
          const parsed = req.body;
          if (Buffer.isBuffer(parsed)) return handle(parsed.toString('utf8'));
          if (typeof parsed === 'string') return handle(parsed);
          if (parsed && typeof parsed === 'object' && Object.keys(parsed).length > 0) return handle(JSON.stringify(parsed));
          // A middleware (httpNodeMiddleware) already read the body to its end and left
          // nothing: no 'end' will come, answer from the URL now.
          if (req.readableEnded) return handle('');
          const chunks: Buffer[] = [];
          let size = 0;
          let over = false;
          req.on('data', (c: Buffer) => {
            if (over) return;
            size += c.length;
            if (size > maxMessageBytes) {
              over = true;
              chunks.length = 0;
              answer(input.httpOversize({ remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort }, size));
              req.resume();
              return;
            }
            chunks.push(c);
          });
          req.on('end', () => {
            if (!over) handle(Buffer.concat(chunks).toString('utf8'));
          });
          req.on('error', () => undefined);
        };
        // Honour settings.httpNodeMiddleware like the core http-in node does.
        const mw = (RED.settings as unknown as { httpNodeMiddleware?: unknown }).httpNodeMiddleware;
        if (typeof mw === 'function') {
          const own = handler;
          const middleware = mw as Handler;
          handler = (req, res, next) => middleware(req, res, () => own(req, res, next));
        }
        app.all(routePath, handler);
        render();
      }
    } else if (core) {
      core
        .start()
        .then(() => {
          if (closed) return;
          render();
        })
        .catch((e: unknown) => {
          listenError = RED._('halo-in.status.listenFailed', { port });
          node.error(RED._('halo-in.errors.listen', { transport, port, error: errorMessage(e) }));
          render();
        });
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      systemClock.clearTimeout(statusTimer);
      if (handler && app) {
        const stack = (app._router ?? app.router)?.stack;
        if (stack) {
          for (let i = stack.length - 1; i >= 0; i--) {
            if (stack[i].route?.stack?.some((l) => l.handle === handler)) stack.splice(i, 1);
          }
        }
      }
      node.status({});
      if (!core) return done();
      core.close().then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType('halo-in', HaloIn);
};
