/**
 * How isotel-in, isotel-notify and isotel-signal use their isotel-service: register the node's
 * user with the selected service until the node closes — or, none selected, refuse the node with
 * its own `<type>.errors.noService` / `<type>.status.noService` catalog texts.
 */
import type { Node, NodeAPI } from 'node-red';
import { configNode, refuse, scope } from '../kit';
import type { IsotelServiceNode, IsotelUser } from './service-types';

/**
 * Register `user` with the node's isotel-service; it is deregistered when the node closes (the
 * node's scope: the node needs no other close work). Returns the service, or undefined after
 * refusing the node when none is selected.
 */
export function useService(RED: NodeAPI, node: Node, id: string | undefined, type: string, user: IsotelUser): IsotelServiceNode | undefined {
  const service = configNode<IsotelServiceNode>(RED, id);
  if (!service) {
    refuse(node, RED._(`${type}.errors.noService`), RED._(`${type}.status.noService`));
    return undefined;
  }
  scope(RED, node).defer(service.register(user));
  return service;
}
