/**
 * The contract between the halo-sensor config node and halo-poll (types only).
 */
import type { Node } from 'node-red';
import type { HaloHttpClient } from '../../lib/halo/client';
import type { LoginCredentials } from '../kit';

/** What halo-poll uses from its sensor. */
export interface HaloSensorNode extends Node<LoginCredentials> {
  client: HaloHttpClient;
  deviceName: string;
  eventsPath: string;
  thresholdsPath: string;
  /** Why the settings are unusable ('' when fine). */
  configError: string;
}
