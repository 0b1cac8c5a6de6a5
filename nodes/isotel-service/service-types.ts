/**
 * The contract between the isotel-service config node and the Isotel nodes that use it
 * (types only).
 */
import type { Node, NodeStatus } from 'node-red';
import type { IsotelClient, IsotelRequest, LinkState } from '../../lib/isotel/client';
import type { Body, ConnectOptions } from '../../lib/isotel/codec';

/** What an Isotel node gives the service when it registers. All optional. */
export interface IsotelUser {
  id: string;
  /** The link state, already rendered as a node status. */
  onStatus?: (status: NodeStatus, state: LinkState) => void;
  /** A request relayed from the IoT's HTTP API (isotel-in). */
  onRequest?: (req: IsotelRequest) => void;
  /** A SIGNAL for a URI this user subscribed to (isotel-signal). */
  onSignal?: (uri: string, data: Body) => void;
  /** A CONNECT acknowledgement (or a DISCONNECT from the IoT) for one of its URIs. */
  onSubscription?: (uri: string, ok: boolean, body: Body) => void;
}

export interface IsotelServiceNode extends Node {
  client: IsotelClient;
  serviceName: string;
  /** Why the link cannot open (host/port not set), or ''. */
  configError: string;
  register(user: IsotelUser): void;
  deregister(user: IsotelUser): void;
  /** Route SIGNALs / acks of `uri` to `user` and subscribe (CONNECT, with options) it. */
  subscribe(user: IsotelUser, uri: string, options?: ConnectOptions): void;
  unsubscribe(user: IsotelUser, uri: string): void;
  /** The current link state as a node status. */
  currentStatus(): NodeStatus;
}
