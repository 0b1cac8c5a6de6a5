/**
 * halo-in: receives what HALOs push — set/reset event strings and heartbeats — over TCP,
 * UDP or HTTP (a route on Node-RED's own HTTP server). Thin adapter over lib/halo/input.ts
 * (and lib/halo/httpin.ts for the route): settings → HaloInput, its messages → the two
 * outputs, warnings through one rate-limited warner, status.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { systemClock, type TimerHandle } from '../../lib/common/clock';
import { RateLimitedWarner } from '../../lib/common/warn';
import { RECOMMENDED_TEMPLATES, type HaloFormat } from '../../lib/halo/decode';
import { HaloCredentials, haloHttpHandler, type HaloHttpHandler } from '../../lib/halo/httpin';
import { HaloInput, templatesSplitByFraming, type HaloInputOptions, type HaloOutMessage, type HaloTransport, type HaloWarning } from '../../lib/halo/input';
import type { HaloFraming } from '../../lib/halo/receiver';
import { errorMessage, flowClock, hasHttpNode, LOGIN_CREDENTIALS, type LoginCredentials, mountRoute, readNumber, refuse, scope } from '../kit';

interface InDef extends NodeDef {
  transport?: string;
  host?: string;
  port?: number | string;
  path?: string;
  framing?: string;
  delimiter?: string;
  maxMessageBytes?: number | string;
  idleTimeout?: number | string;
  messageTimeout?: number | string;
  maxConnections?: number | string;
  format?: string;
  setTemplate?: string;
  resetTemplate?: string;
  heartbeatTemplate?: string;
  allow?: string;
  heartbeatInterval?: number | string;
  missedHeartbeats?: number | string;
}

/** Node-RED credentials: the access key and secret a HALO must send (HTTP transport). */
function oneOf<T extends string>(v: unknown, options: readonly T[], fallback: T): T {
  return options.includes(v as T) ? (v as T) : fallback;
}

export = function (RED: NodeAPI): void {
  function HaloIn(this: Node<LoginCredentials>, config: InDef): void {
    RED.nodes.createNode(this, config);
    const transport = oneOf<HaloTransport>(config.transport, ['tcp', 'udp', 'http'], 'tcp');
    // An explicit 0 lets the OS pick a free port, shown in the status (how tests avoid a port
    // race); a missing port is refused. The editor asks for 1–65535.
    const port = readNumber(config.port, -1, { min: -1, max: 65535, integer: true });
    const maxMessageBytes = readNumber(config.maxMessageBytes, 65536, { min: 64, max: 16 * 1024 * 1024, integer: true });
    const messageTimeoutMs = readNumber(config.messageTimeout, 30, { min: 0, max: 86400 }) * 1000;
    let routePath = (config.path ?? '').trim();
    if (routePath !== '' && !routePath.startsWith('/')) routePath = `/${routePath}`;
    const settingsError = (reason: string): void => refuse(this, RED._('halo-in.errors.config', { error: reason }), reason);
    if (transport !== 'http' && port < 0) return settingsError(RED._('halo-in.errors.noPort'));
    if (transport === 'http' && routePath === '') return settingsError(RED._('halo-in.errors.noPath'));
    if (transport === 'http' && !hasHttpNode(RED)) return refuse(this, RED._('halo-in.errors.noHttp'));

    // Idle timeout, message deadline, watchdog and warning windows: a flow-wide FakeClock in tests.
    const clock = flowClock(RED) ?? systemClock;
    // Every warning a sender can trigger again and again goes through here: per kind, the
    // first few as they come, then one summary line per minute.
    const warner = new RateLimitedWarner((line) => this.warn(line), { clock });
    const warn = (w: HaloWarning): void => {
      const { code, ...params } = w;
      warner.warn(code, RED._(`halo-in.warn.${code}`, params));
    };
    const toMsg = (m: HaloOutMessage): NodeMessage => {
      const msg: NodeMessage & { raw?: string } = { topic: m.topic, payload: m.payload };
      if (m.raw !== undefined) msg.raw = m.raw;
      return msg;
    };
    let statusTimer: TimerHandle | undefined;
    let closed = false;
    const options: HaloInputOptions = {
      transport,
      host: config.host,
      port,
      framing: oneOf<HaloFraming>(config.framing, ['newline', 'delimiter', 'json', 'close'], 'newline'),
      delimiter: config.delimiter,
      maxMessageBytes,
      idleTimeoutMs: readNumber(config.idleTimeout, 300, { min: 0, max: 86400 }) * 1000,
      messageTimeoutMs,
      maxConnections: readNumber(config.maxConnections, 100, { min: 1, max: 100000, integer: true }),
      format: oneOf<HaloFormat>(config.format, ['auto', 'json', 'template'], 'auto'),
      // Not set at all (e.g. a flow written by hand): the recommended strings; '' = none.
      setTemplate: config.setTemplate ?? RECOMMENDED_TEMPLATES.set,
      resetTemplate: config.resetTemplate ?? RECOMMENDED_TEMPLATES.reset,
      heartbeatTemplate: config.heartbeatTemplate ?? RECOMMENDED_TEMPLATES.heartbeat,
      allow: config.allow,
      heartbeatIntervalMs: readNumber(config.heartbeatInterval, 60, { min: 0, max: 86400 }) * 1000,
      missedHeartbeats: readNumber(config.missedHeartbeats, 3, { min: 1, max: 1000, integer: true }),
      clock,
    };
    let core: HaloInput;
    try {
      core = new HaloInput(options, {
        event: (m) => this.send([toMsg(m), null]),
        health: (m) => this.send([null, toMsg(m)]),
        warn,
        // Status at most every 250 ms (real time), however fast messages arrive.
        changed: () => {
          if (statusTimer === undefined && !closed) statusTimer = systemClock.setTimeout(render, 250);
        },
      });
    } catch (e) {
      return settingsError(errorMessage(e));
    }
    const s = scope(RED, this, clock);
    let listenError = '';
    const render = (): void => {
      statusTimer = undefined;
      if (closed) return;
      if (listenError) return this.status({ fill: 'red', shape: 'ring', text: listenError });
      const where = transport === 'http' ? routePath : `:${core.port ?? port}`;
      let text = RED._('halo-in.status.listening', { transport, where, devices: core.deviceCount });
      if (core.lastEvent) text += ` · ${core.lastEvent}`;
      if (core.refusedCount > 0) text += ` · ${RED._('halo-in.status.refused', { count: core.refusedCount })}`;
      if (core.unauthorisedCount > 0) text += ` · ${RED._('halo-in.status.unauthorised', { count: core.unauthorisedCount })}`;
      const bad = core.refusedCount > 0 || core.unauthorisedCount > 0;
      this.status({ fill: bad ? 'yellow' : 'green', shape: 'dot', text });
    };
    // %ALLSENSORSNL% puts line breaks inside the message: newline framing would cut it up.
    for (const kind of templatesSplitByFraming(options)) {
      this.warn(RED._('halo-in.warn.allSensorsNL', { template: RED._(`halo-in.label.${kind}Template`) }));
    }
    // Deferred cleanups run last added first: the core closes, then the warner writes its summaries.
    s.defer(() => warner.dispose());
    s.defer(() => {
      closed = true;
      systemClock.clearTimeout(statusTimer);
      return core.close();
    });

    if (transport === 'http') {
      let handler: HaloHttpHandler = haloHttpHandler(core, {
        maxBytes: maxMessageBytes,
        deadlineMs: messageTimeoutMs,
        clock,
        credentials: HaloCredentials.from(this.credentials?.username, this.credentials?.password),
      });
      // Honour settings.httpNodeMiddleware like the core http-in node does.
      const mw = (RED.settings as unknown as { httpNodeMiddleware?: unknown }).httpNodeMiddleware;
      if (typeof mw === 'function') {
        const own = handler;
        const middleware = mw as HaloHttpHandler;
        handler = (req, res, next) => middleware(req, res, () => own(req, res, next));
      }
      s.defer(mountRoute(RED, 'all', routePath, handler));
      render();
      return;
    }
    s.track(
      core.start().then(() => {
        // The bound port (the OS's pick for 0), for whoever holds the node object: tests.
        (this as Node<LoginCredentials> & { boundPort?: number }).boundPort = core.port;
        render();
      }, (e: unknown) => {
        listenError = RED._('halo-in.status.listenFailed', { port });
        this.error(RED._('halo-in.errors.listen', { transport, port, error: errorMessage(e) }));
        render();
      }),
    );
  }

  RED.nodes.registerType<Node<LoginCredentials>, InDef, unknown, LoginCredentials>('halo-in', HaloIn, {
    credentials: LOGIN_CREDENTIALS,
  });
};
