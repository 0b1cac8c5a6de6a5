/**
 * isotel-notify: writes to the Isotel IoT activity log with
 * `NOTIFY {"module","severity","message","receiver"}`. While the link is down the NOTIFY
 * waits in the service's bounded outbound queue. Thin adapter over isotel-service.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { NotifyBody } from '../../lib/isotel/codec';
import type { IsotelServiceNode, IsotelUser } from '../isotel-service/service-types';

interface NotifyDef extends NodeDef {
  service?: string;
  module?: string;
  severity?: string;
  receiver?: string;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

export = function (RED: NodeAPI): void {
  function IsotelNotifyNode(this: Node, config: NotifyDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the node is used in callbacks
    const node = this;
    const service = config.service ? (RED.nodes.getNode(config.service) as IsotelServiceNode | null) : null;
    if (!service) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('isotel-notify.status.noService') });
      node.error(RED._('isotel-notify.errors.noService'));
      node.on('input', (_msg, _send, done) => done(new Error(RED._('isotel-notify.errors.noService'))));
      node.on('close', (_removed: boolean, done: () => void) => done());
      return;
    }
    let sent = 0;
    const user: IsotelUser = { id: node.id, onStatus: (st) => node.status(st) };
    service.register(user);

    node.on('input', (msg, _send, done) => {
      const p = msg.payload;
      let fields: Record<string, unknown>;
      if (typeof p === 'string' || typeof p === 'number' || typeof p === 'boolean') fields = { message: String(p) };
      else if (Buffer.isBuffer(p)) fields = { message: p.toString('utf8') };
      else if (p && typeof p === 'object' && !Array.isArray(p)) fields = p as Record<string, unknown>;
      else fields = {};
      const message = typeof fields.message === 'string' ? fields.message : undefined;
      if (message === undefined || message.trim() === '') {
        done(new Error(RED._('isotel-notify.errors.noMessage')));
        return;
      }
      const body: NotifyBody = {
        module: str(fields.module) ?? str(config.module) ?? service.serviceName,
        severity: str(fields.severity) ?? str(config.severity) ?? 'API',
        message,
      };
      const receiver = str(fields.receiver) ?? str(config.receiver);
      if (receiver !== undefined) body.receiver = receiver;
      const r = service.client.notify(body);
      if (r === 'sent') sent++;

      const st = service.client.stats;
      node.status(
        r === 'sent'
          ? { fill: 'green', shape: 'dot', text: RED._('isotel-notify.status.sent', { count: sent }) }
          : { fill: 'yellow', shape: 'ring', text: RED._('isotel-notify.status.queued', { count: st.queued, dropped: st.dropped }) },
      );
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      service.deregister(user);
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('isotel-notify', IsotelNotifyNode);
};
