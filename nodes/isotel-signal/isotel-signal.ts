/**
 * isotel-signal: subscribes to device parameters (`CONNECT <uri>` with optional
 * `{"debounce_time","send_data"}`), re-subscribes after every reconnect, and sends each
 * `SIGNAL` as a message. `msg.topic` `connect` / `disconnect` with a URI (or a list) in
 * `msg.payload` changes the subscriptions at run time; without a URI it connects or
 * disconnects the service link itself. Thin adapter over isotel-service.
 */
import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { isValidUri, normalizeUri, type ConnectOptions } from '../../lib/isotel/codec';
import type { IsotelUser } from '../isotel-service/service-types';
import { useService } from '../isotel-service/use';
import { readNumber, type Done, type Send } from '../kit';

interface SignalDef extends NodeDef {
  service?: string;
  uris?: unknown;
  debounceTime?: number | string;
  sendData?: boolean;
}

export = function (RED: NodeAPI): void {
  function IsotelSignalNode(this: Node, config: SignalDef): void {
    RED.nodes.createNode(this, config);
    const debounce = config.debounceTime === undefined || config.debounceTime === '' ? undefined : readNumber(config.debounceTime, 0, { min: 0, max: 86_400_000, integer: true });
    const sendData = config.sendData !== false;
    let options: ConnectOptions | undefined;
    if (debounce !== undefined && debounce > 0) options = { debounce_time: debounce, send_data: sendData };
    else if (!sendData) options = { send_data: false };

    const configured = Array.isArray(config.uris) ? config.uris : typeof config.uris === 'string' ? config.uris.split(/[\s,]+/) : [];
    const uris = new Set<string>();
    const refused = new Map<string, string>();
    let link: NodeStatus = {};
    let linkUp = false;

    const show = (): void => {
      if (refused.size > 0) {
        const [uri] = refused.keys();
        this.status({ fill: 'red', shape: 'ring', text: RED._('isotel-signal.status.refused', { uri, count: refused.size }) });
      } else if (linkUp) {
        // The service's "connected" plus this node's own subscriptions (not the service's total).
        this.status({ ...link, text: RED._('isotel-signal.status.connected', { count: uris.size }) });
      } else {
        this.status(link);
      }
    };

    const user: IsotelUser = {
      id: this.id,
      onStatus: (st, state) => {
        link = st;
        linkUp = state.state === 'connected';
        show();
      },
      onSignal: (uri, data) => {
        this.send({ topic: uri, payload: data === undefined ? null : data });
      },
      onSubscription: (uri, ok, body) => {
        if (ok) {
          if (refused.delete(uri)) show();
          return;
        }
        // The IoT's words in the log, cut to a line (the whole body goes on in the message).
        const full = typeof body === 'string' ? body : JSON.stringify(body ?? null);
        const why = full.length > 200 ? `${full.slice(0, 200)}… (${full.length} characters)` : full;
        refused.set(uri, why);
        show();
        this.error(RED._('isotel-signal.errors.refused', { uri, body: why }), { topic: uri, payload: body ?? null });
      },
    };
    // Deregistered at close, which unsubscribes: DISCONNECT <uri> for URIs no other node wants.
    const service = useService(RED, this, config.service, 'isotel-signal', user);
    if (!service) return;

    const add = (uri: string): void => {
      const u = normalizeUri(uri);
      if (uris.has(u)) return;
      uris.add(u);
      service.client.subscribe(u, options, user);
      if (linkUp) show();
    };
    const remove = (uri: string): boolean => {
      const u = normalizeUri(uri);
      if (!uris.delete(u)) return false;
      refused.delete(u);
      service.client.unsubscribe(u, user.id);
      show();
      return true;
    };

    const bad = configured.filter((u) => !isValidUri(u));
    if (bad.length > 0) this.warn(RED._('isotel-signal.errors.badUri', { uri: JSON.stringify(bad) }));
    for (const u of configured) if (isValidUri(u)) add(u);

    this.on('input', (msg, _send: Send, done: Done) => {
      const topic = typeof msg.topic === 'string' ? msg.topic.trim().toLowerCase() : '';
      if (topic !== 'connect' && topic !== 'disconnect') {
        done(new Error(RED._('isotel-signal.errors.badCommand', { topic: String(msg.topic) })));
        return;
      }
      const p = msg.payload;
      const list = Array.isArray(p) ? p : p === undefined || p === null || p === '' ? [] : [p];
      if (list.length === 0) {
        // No URI: the command is for the service link itself.
        if (service.configError) {
          // A link without host/port would only retry in vain (and hide the config error).
          done(new Error(service.configError));
          return;
        }
        if (topic === 'connect') service.client.connect();
        else service.client.disconnect();
        done();
        return;
      }
      const bad = list.filter((u) => !isValidUri(u));
      if (bad.length > 0) {
        done(new Error(RED._('isotel-signal.errors.badUri', { uri: JSON.stringify(bad) })));
        return;
      }
      for (const u of list as string[]) {
        if (topic === 'connect') add(u);
        else remove(u);
      }
      done();
    });
  }

  RED.nodes.registerType('isotel-signal', IsotelSignalNode);
};
