/**
 * The contract between the isotel-service config node and the Isotel nodes that use it
 * (types only).
 */
import type { Node, NodeStatus } from 'node-red';
import type { IsotelClient, IsotelRequest, LinkState, SubscriptionOwner } from '../../lib/isotel/client';

/**
 * What an Isotel node gives the service when it registers. All optional. It is also the
 * owner of its subscriptions (`client.subscribe(uri, options, user)`): the client hands it
 * the SIGNALs and CONNECT acknowledgements of its URIs (`onSignal`, `onSubscription`).
 */
export interface IsotelUser extends SubscriptionOwner {
  id: string;
  /** The link state, already rendered as a node status. */
  onStatus?: (status: NodeStatus, state: LinkState) => void;
  /** A request relayed from the IoT's HTTP API (isotel-in). */
  onRequest?: (req: IsotelRequest) => void;
}

export interface IsotelServiceNode extends Node {
  client: IsotelClient;
  serviceName: string;
  /** Why the link cannot open (host/port not set), or ''. */
  configError: string;
  /**
   * Add `user`; returns its deregistration (for `s.defer`), which forgets it: its subscriptions
   * end (DISCONNECT for URIs no other node wants).
   */
  register(user: IsotelUser): () => void;
  /** The current link state as a node status. */
  currentStatus(): NodeStatus;
}
