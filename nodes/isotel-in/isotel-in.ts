/**
 * isotel-in: requests relayed from the Isotel IoT's HTTP API
 * (`/api/v1/me/services/<name>?…`) to this service, one message each. Answer them with
 * isotel-reply; the service answers `HREPLY 504` for any left unanswered past its
 * request timeout. Thin adapter over the isotel-service config node.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { IsotelServiceNode, IsotelUser } from '../isotel-service/service-types';

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
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the node is used in callbacks
    const node = this;
    const service = config.service ? (RED.nodes.getNode(config.service) as IsotelServiceNode | null) : null;
    if (!service) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('isotel-in.status.noService') });
      node.error(RED._('isotel-in.errors.noService'));
      node.on('close', (_removed: boolean, done: () => void) => done());
      return;
    }
    const user: IsotelUser = {
      id: node.id,
      onStatus: (st) => node.status(st),
      onRequest: (req) => {
        const ref: IsotelRef = { service: service.id, id: req.id, epoch: req.epoch };
        const msg: NodeMessage & { _isotel: IsotelRef } = { payload: req.body === undefined ? '' : req.body, _isotel: ref };
        if (req.action !== undefined) msg.topic = req.action;
        node.send(msg);
      },
    };
    service.register(user);
    node.on('close', (_removed: boolean, done: () => void) => {
      service.deregister(user);
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('isotel-in', IsotelInNode);
};
