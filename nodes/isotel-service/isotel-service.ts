/**
 * isotel-service (config node): one TCP link from this Node-RED to the Isotel IoT's
 * "Service TCP server". Thin adapter over lib/isotel/client.ts: the Isotel nodes register
 * here, get the link state as a ready-made status and the requests; their subscriptions are
 * the client's (it dispatches SIGNALs and CONNECT acknowledgements to each owner).
 */
import type { NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { IsotelClient, type IsotelRequest, type LinkState } from '../../lib/isotel/client';
import type { IsotelServiceNode, IsotelUser } from './service-types';
import { systemClock } from '../../lib/common/clock';
import { RateLimitedWarner } from '../../lib/common/warn';
import { flowClock, numberSetting } from '../util';

interface ServiceDef extends NodeDef {
  host?: string;
  port?: number | string;
  vendor?: string;
  version?: string;
  requestTimeout?: number | string;
  queueSize?: number | string;
  idleTimeout?: number | string;
  statusToFlow?: boolean;
}

export = function (RED: NodeAPI): void {
  function IsotelServiceNodeCtor(this: IsotelServiceNode, config: ServiceDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the node is used in callbacks
    const node = this;
    node.serviceName = (config.name || 'vigil').trim();
    const host = (config.host || '').trim();
    const port = Math.round(numberSetting(config.port, 0, 0, 65535));
    const users = new Set<IsotelUser>();
    let started = false;
    const clock = flowClock(RED) ?? systemClock;

    node.client = new IsotelClient({
      host: host || '127.0.0.1',
      port,
      ident: { name: node.serviceName, vendor: (config.vendor || 'Vigil').trim(), version: (config.version || '1.0').trim() },
      requestTimeoutMs: numberSetting(config.requestTimeout, 10, 0.01, 3600) * 1000,
      queueLimit: Math.round(numberSetting(config.queueSize, 1000, 1, 1_000_000)),
      idleTimeoutMs: numberSetting(config.idleTimeout, 0, 0, 86400) * 1000,
      answerStatus: config.statusToFlow !== true,
      clock,
    });
    const client = node.client;
    const badConfig = !host || !(port >= 1 && port <= 65535) ? RED._('isotel-service.errors.badAddress', { host, port: String(config.port ?? '') }) : '';
    node.configError = badConfig;

    const render = (s: LinkState): NodeStatus => {
      switch (s.state) {
        case 'connecting':
          return { fill: 'yellow', shape: 'ring', text: RED._('isotel-service.status.connecting') };
        case 'connected':
          return { fill: 'green', shape: 'dot', text: RED._('isotel-service.status.connected') };
        case 'reconnecting':
          return { fill: 'red', shape: 'ring', text: RED._('isotel-service.status.reconnecting', { seconds: Math.max(1, Math.round(s.inMs / 1000)) }) };
        case 'stopped':
          return { fill: 'grey', shape: 'dot', text: RED._('isotel-service.status.stopped') };
        case 'disconnected':
          return { fill: 'grey', shape: 'ring', text: RED._('isotel-service.status.disconnected') };
        case 'closed':
          return {};
        default:
          return badConfig ? { fill: 'red', shape: 'ring', text: RED._('isotel-service.status.badConfig') } : { fill: 'grey', shape: 'ring', text: RED._('isotel-service.status.idle') };
      }
    };
    node.currentStatus = () => render(client.state);

    let lastState = client.state.state;
    client.on('state', (s) => {
      const wasConnected = lastState === 'connected';
      lastState = s.state;
      // connected → connected is only the client's subscription count changing: the status
      // the users show is the same ("connected"; isotel-signal counts its own), so leave
      // theirs alone (e.g. isotel-reply's "replied N").
      if (wasConnected && s.state === 'connected') return;
      const st = render(s);
      for (const u of users) u.onStatus?.(st, s);
      if (s.state === 'reconnecting') node.log(RED._('isotel-service.log.reconnecting', { reason: s.reason, seconds: Math.round(s.inMs / 100) / 10 }));
      else if (s.state === 'connected') node.log(RED._('isotel-service.log.connected', { host, port }));
      else if (s.state === 'stopped') node.warn(RED._('isotel-service.log.stopped'));
    });
    // A peer sending garbage must not flood the log: the package's one rate-limited warner,
    // per kind of warning (the first few, then one summary line per minute).
    const warner = new RateLimitedWarner((line) => node.warn(line), { clock });
    client.on('warning', (w, kind) => warner.warn(kind, w));
    client.on('timeout', (r) => warner.warn('timeout', RED._('isotel-service.log.timeout', { id: r.id, seconds: numberSetting(config.requestTimeout, 10, 0.01, 3600) })));
    const onRequest = (r: IsotelRequest): void => {
      for (const u of users) u.onRequest?.(r);
    };

    const hasRequestUser = (): boolean => [...users].some((u) => u.onRequest);

    node.register = (user) => {
      users.add(user);
      if (user.onRequest && client.listenerCount('request') === 0) client.on('request', onRequest);
      if (badConfig) {
        user.onStatus?.({ fill: 'red', shape: 'ring', text: RED._('isotel-service.status.badConfig') }, client.state);
        return;
      }
      user.onStatus?.(render(client.state), client.state);
      if (!started) {
        started = true;
        client.connect();
      }
    };
    node.deregister = (user) => {
      users.delete(user);
      client.unsubscribeAll(user.id);
      if (!hasRequestUser()) client.off('request', onRequest);
    };

    if (badConfig) node.error(badConfig);

    node.on('close', (_removed: boolean, done: () => void) => {
      users.clear();
      client.removeAllListeners();
      warner.dispose();
      client.close().then(done, done);
    });
  }

  RED.nodes.registerType('isotel-service', IsotelServiceNodeCtor);
};
