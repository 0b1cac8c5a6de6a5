/**
 * What the API needs from a `vigil-system` hub: a structural subset of `SystemHub`
 * (lib/system/hub.ts), so the API can be unit-tested against a small fake hub.
 */
import type { AlarmStatus, ClipStore, CommandName, CommandReply, DetectorMetrics, FrameInfo, SectionMember } from '../system/types';

export interface ApiHub {
  on(event: 'status', listener: (s: AlarmStatus) => void): unknown;
  on(event: 'metrics', listener: (m: DetectorMetrics) => void): unknown;
  on(event: 'frame', listener: (jpeg: Buffer, info: FrameInfo) => void): unknown;
  off(event: 'status', listener: (s: AlarmStatus) => void): unknown;
  off(event: 'metrics', listener: (m: DetectorMetrics) => void): unknown;
  off(event: 'frame', listener: (jpeg: Buffer, info: FrameInfo) => void): unknown;
  readonly status?: AlarmStatus;
  readonly frame?: { jpeg: Buffer; info: FrameInfo };
  /** The system's clip folder (a vigil-recorder registers it), if any. */
  readonly clipStore?: ClipStore;
  getConfig(opts?: { maskSecrets?: boolean }): object;
  command(name: CommandName, data: Record<string, unknown>): Promise<CommandReply>;
  register(member: SectionMember): () => void;
}

export type { AlarmStatus, CommandName, CommandReply, DetectorMetrics, FrameInfo, SectionMember };
