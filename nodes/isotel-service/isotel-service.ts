/**
 * isotel-service (config node): one TCP link from this Node-RED to the Isotel IoT's
 * "Service TCP server". Thin adapter over lib/isotel/client.ts: the Isotel nodes register
 * here, get the link state as a ready-made status and the requests; their subscriptions are
 * the client's (it dispatches SIGNALs and CONNECT acknowledgements to each owner).
 */
import type { NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { IsotelClient, type IsotelRequest, type LinkState } from '../../lib/isotel/client';
import type { IsotelServiceNode, IsotelUser } from './service-types';
import { RateLimitedWarner } from '../../lib/common/warn';
import { readNumber, scope } from '../kit';

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
    const s = scope(RED, this);
    this.serviceName = (config.name || 'vigil').trim();
    const host = (config.host || '').trim();
    const port = readNumber(config.port, 0, { min: 0, max: 65535, integer: true });
    const timeoutSeconds = readNumber(config.requestTimeout, 10, { min: 0.01, max: 3600 });
    const users = new Set<IsotelUser>();
    let started = false;

    const client = (this.client = new IsotelClient({
      host: host || '127.0.0.1',
      port,
      ident: { name: this.serviceName, vendor: (config.vendor || 'Vigil').trim(), version: (config.version || '1.0').trim() },
      requestTimeoutMs: timeoutSeconds * 1000,
      queueLimit: readNumber(config.queueSize, 1000, { min: 1, max: 1_000_000, integer: true }),
      idleTimeoutMs: readNumber(config.idleTimeout, 0, { min: 0, max: 86400 }) * 1000,
      answerStatus: config.statusToFlow !== true,
      clock: s.clock,
    }));
    const badConfig = !host || !(port >= 1 && port <= 65535) ? RED._('isotel-service.errors.badAddress', { host, port: String(config.port ?? '') }) : '';
    this.configError = badConfig;

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
    this.currentStatus = () => render(client.state);

    let lastState = client.state.state;
    s.listen(client, 'state', (st: LinkState) => {
      const wasConnected = lastState === 'connected';
      lastState = st.state;
      // connected → connected is only the client's subscription count changing: the status
      // the users show is the same ("connected"; isotel-signal counts its own), so leave
      // theirs alone (e.g. isotel-reply's "replied N").
      if (wasConnected && st.state === 'connected') return;
      const status = render(st);
      for (const u of users) u.onStatus?.(status, st);
      if (st.state === 'reconnecting') this.log(RED._('isotel-service.log.reconnecting', { reason: st.reason, seconds: Math.round(st.inMs / 100) / 10 }));
      else if (st.state === 'connected') this.log(RED._('isotel-service.log.connected', { host, port }));
      else if (st.state === 'stopped') this.warn(RED._('isotel-service.log.stopped'));
    });
    // A peer sending garbage must not flood the log: the package's one rate-limited warner,
    // per kind of warning (the first few, then one summary line per minute).
    const warner = new RateLimitedWarner((line) => this.warn(line), { clock: s.clock });
    s.listen(client, 'warning', (w: string, kind: string) => warner.warn(kind, w));
    s.listen(client, 'timeout', (r: IsotelRequest) => warner.warn('timeout', RED._('isotel-service.log.timeout', { id: r.id, seconds: timeoutSeconds })));
    const onRequest = (r: IsotelRequest): void => {
      for (const u of users) u.onRequest?.(r);
    };

    const hasRequestUser = (): boolean => [...users].some((u) => u.onRequest);

    const deregister = (user: IsotelUser): void => {
      users.delete(user);
      client.unsubscribeAll(user.id);
      if (!hasRequestUser()) client.off('request', onRequest);
    };
    this.register = (user) => {
      users.add(user);
      if (user.onRequest && client.listenerCount('request') === 0) client.on('request', onRequest);
      if (badConfig) {
        user.onStatus?.({ fill: 'red', shape: 'ring', text: RED._('isotel-service.status.badConfig') }, client.state);
      } else {
        user.onStatus?.(render(client.state), client.state);
        if (!started) {
          started = true;
          client.connect();
        }
      }
      return () => deregister(user);
    };

    if (badConfig) this.error(badConfig);

    s.defer(() => {
      users.clear();
      client.off('request', onRequest);
      warner.dispose();
      return client.close();
    });
  }

  RED.nodes.registerType('isotel-service', IsotelServiceNodeCtor);
};
