/**
 * isotel-in: requests relayed from the Isotel IoT's HTTP API
 * (`/api/v1/me/services/<name>?…`) to this service, one message each. Answer them with
 * isotel-reply; the service answers `HREPLY 504` for any left unanswered past its
 * request timeout. Thin adapter over the isotel-service config node.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { IsotelUser } from '../isotel-service/service-types';
import { useService } from '../isotel-service/use';

interface InDef extends NodeDef {
  service?: string;
}

interface IsotelRef {
  service: string;
  id: number;
  epoch: number;
}

export = function (RED: NodeAPI): void {
  function IsotelInNode(this: Node, config: InDef): void {
    RED.nodes.createNode(this, config);
    const user: IsotelUser = {
      id: this.id,
      onStatus: (st) => this.status(st),
      onRequest: (req) => {
        const ref: IsotelRef = { service: config.service ?? '', id: req.id, epoch: req.epoch };
        const msg: NodeMessage & { _isotel: IsotelRef } = { payload: req.body === undefined ? '' : req.body, _isotel: ref };
        if (req.action !== undefined) msg.topic = req.action;
        this.send(msg);
      },
    };
    useService(RED, this, config.service, 'isotel-in', user);
  }

  RED.nodes.registerType('isotel-in', IsotelInNode);
};
