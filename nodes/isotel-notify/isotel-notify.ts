/**
 * isotel-notify: writes to the Isotel IoT activity log with
 * `NOTIFY {"module","severity","message","receiver"}`. While the link is down the NOTIFY
 * waits in the service's bounded outbound queue. Thin adapter over isotel-service.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { NotifyBody } from '../../lib/isotel/codec';
import type { IsotelUser } from '../isotel-service/service-types';
import { useService } from '../isotel-service/use';
import type { Done, Send } from '../kit';

interface NotifyDef extends NodeDef {
  service?: string;
  module?: string;
  severity?: string;
  receiver?: string;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** The NOTIFY fields a message asks for: text as the message itself, or an object of fields. */
function fieldsOf(p: unknown): Record<string, unknown> {
  if (typeof p === 'string' || typeof p === 'number' || typeof p === 'boolean') return { message: String(p) };
  if (Buffer.isBuffer(p)) return { message: p.toString('utf8') };
  if (p && typeof p === 'object' && !Array.isArray(p)) return p as Record<string, unknown>;
  return {};
}

export = function (RED: NodeAPI): void {
  function IsotelNotifyNode(this: Node, config: NotifyDef): void {
    RED.nodes.createNode(this, config);
    const user: IsotelUser = { id: this.id, onStatus: (st) => this.status(st) };
    const service = useService(RED, this, config.service, 'isotel-notify', user);
    if (!service) return;
    let sent = 0;

    this.on('input', (msg, _send: Send, done: Done) => {
      const fields = fieldsOf(msg.payload);
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
      this.status(
        r === 'sent'
          ? { fill: 'green', shape: 'dot', text: RED._('isotel-notify.status.sent', { count: sent }) }
          : { fill: 'yellow', shape: 'ring', text: RED._('isotel-notify.status.queued', { count: st.queued, dropped: st.dropped }) },
      );
      done();
    });
  }

  RED.nodes.registerType('isotel-notify', IsotelNotifyNode);
};
