/**
 * isotel-reply: answers the request a message came from (`msg._isotel`, set by isotel-in)
 * with `REPLY <payload>`, or `HREPLY {"status","mime","body"}` when `msg.statusCode` or
 * `msg.mime` is set. Answers leave in request order (the service holds an early answer
 * until the requests before it are answered). Thin adapter over isotel-service.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { Answer } from '../../lib/isotel/client';
import type { IsotelServiceNode, IsotelUser } from '../isotel-service/service-types';
import { configNode, errorMessage, scope, type Done, type Send } from '../kit';

interface ReplyDef extends NodeDef {
  service?: string;
}

interface ReplyMsg extends NodeMessage {
  _isotel?: { service?: unknown; id?: unknown; epoch?: unknown };
  statusCode?: unknown;
  mime?: unknown;
}

export = function (RED: NodeAPI): void {
  function IsotelReplyNode(this: Node, config: ReplyDef): void {
    RED.nodes.createNode(this, config);
    const s = scope(RED, this);
    const own = configNode<IsotelServiceNode>(RED, config.service);
    let replied = 0;
    const user: IsotelUser = { id: this.id, onStatus: (st) => this.status(st) };
    if (own) {
      s.defer(own.register(user));
    } else {
      this.status({ fill: 'grey', shape: 'ring', text: RED._('isotel-reply.status.fromMessage') });
    }

    this.on('input', (raw, _send: Send, done: Done) => {
      const msg = raw as ReplyMsg;
      const ref = msg._isotel;
      if (!ref || typeof ref !== 'object' || typeof ref.id !== 'number' || typeof ref.epoch !== 'number') {
        done(new Error(RED._('isotel-reply.errors.noRef')));
        return;
      }
      const svc = typeof ref.service === 'string' ? configNode<IsotelServiceNode>(RED, ref.service) : own;
      if (!svc || typeof svc.client !== 'object') {
        done(new Error(RED._('isotel-reply.errors.noService')));
        return;
      }
      let payload: unknown = msg.payload;
      if (Buffer.isBuffer(payload)) payload = payload.toString('utf8');
      let answer: Answer;
      if (msg.statusCode !== undefined || msg.mime !== undefined) {
        const status = msg.statusCode === undefined ? 200 : Number(msg.statusCode);
        if (!Number.isInteger(status) || status < 100 || status > 599) {
          done(new Error(RED._('isotel-reply.errors.badStatus', { status: String(msg.statusCode) })));
          return;
        }
        if (msg.mime !== undefined && (typeof msg.mime !== 'string' || msg.mime.trim() === '')) {
          done(new Error(RED._('isotel-reply.errors.badMime')));
          return;
        }
        answer = { kind: 'hreply', status, mime: typeof msg.mime === 'string' ? msg.mime.trim() : undefined, body: payload };
      } else {
        answer = { kind: 'reply', body: payload };
      }
      let result: string;
      try {
        result = svc.client.answer({ id: ref.id, epoch: ref.epoch }, answer);
      } catch (err) {
        done(new Error(errorMessage(err)));
        return;
      }
      if (result !== 'accepted') {
        this.status({ fill: 'yellow', shape: 'ring', text: RED._(`isotel-reply.status.${result}`) });
        done(new Error(RED._(`isotel-reply.errors.${result}`, { id: ref.id })));
        return;
      }
      replied++;
      this.status({ fill: 'green', shape: 'dot', text: RED._('isotel-reply.status.replied', { count: replied }) });
      done();
    });
  }

  RED.nodes.registerType('isotel-reply', IsotelReplyNode);
};
