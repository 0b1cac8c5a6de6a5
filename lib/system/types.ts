/**
 * The contract between a `vigil-system` hub and its members (camera, motion, alarm,
 * alerters, api). Framework-free: the node adapters wrap these.
 *
 * The configuration document is the reference app's (docs/camera-alarm.md §1.2), snake_case:
 *   { server: {...}, camera: {...}, processing: {...}, alerting: {...}, alerters: { <name>: {...} } }
 * A member owns one section (`alerters.<name>` for an alerter).
 */

/** One validation error, in the `{loc, msg, type}` shape of docs/camera-alarm.md §8.2. */
export interface ConfigError {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

export type ConfigSection = Record<string, unknown>;

/** A hub member that owns one configuration section. */
export interface SectionMember {
  /** "server" | "camera" | "processing" | "alerting" | "alerters.<name>" */
  readonly section: string;
  /** The live settings as a snake_case section (docs/camera-alarm.md §1.2). Secrets unmasked. */
  get(): ConfigSection;
  /** Errors for a proposed section (loc relative to the document root, e.g. ["processing","gauss_ksize"]). */
  validate(proposed: ConfigSection): ConfigError[];
  /** Apply a section that validated. Must not throw. */
  apply(proposed: ConfigSection): void;
  /** Keys whose values are secrets (masked when served: `api_key`, `password`, ...). */
  readonly secretKeys?: readonly string[];
  /**
   * Keys whose values are URLs: their credential parts are masked when served, and their
   * scheme, host, port and user decide where those credentials go (lib/system/secrets.ts).
   */
  readonly urlKeys?: readonly string[];
  /**
   * Keys that decide where the section's secrets go, beside the well-known names (host, port,
   * user, url, api_base, fingerprint, …): a masked secret is restored only while they are unchanged.
   */
  readonly destinationKeys?: readonly string[];
  /**
   * The member uses secrets that are not in its section (its node's credentials) with its
   * destination fields: those fields then never change at run time (a `config_update` that
   * changes them is refused).
   */
  readonly heldSecrets?: boolean;
}

/** The 1 Hz status (docs/camera-alarm.md §5.4): timeStamp float seconds, camelCase. */
export interface AlarmStatus {
  timeStamp: number;
  state: 'on' | 'off' | 'alarm' | 'silenced';
  initialAlarm: number;
  silencedTill: number | null;
}

/** The nine `/metrics` fields (docs/camera-alarm.md §8.7). */
export interface SystemMetrics {
  timeStamp: number;
  sysCpuPercent: number;
  sysMemPercent: number;
  capCpuPercent: number;
  capMemPercent: number;
  socketConnections: number;
  loopAvgS: number;
  loopMaxS: number;
  loopMinS: number;
}

/** Detector timing the motion node publishes once per detection second. */
export interface DetectorMetrics {
  loopAvgS: number;
  loopMaxS: number;
  loopMinS: number;
  frames: number;
  engine: string;
}

export interface FrameInfo {
  seq: number;
  width: number;
  height: number;
  /** ms epoch */
  timestamp: number;
}

/** Reply to a command: exactly one of the two shapes (docs/camera-alarm.md §8.2). */
export type CommandReply = { status: 'OK' } | { error: string | ConfigError[] };

export type CommandName = 'silence' | 'test' | 'config_update' | 'shutdown' | 'on' | 'off';

/** Handles commands for the system (the alarm registers one). */
export type CommandHandler = (command: CommandName, data: Record<string, unknown>) => CommandReply | Promise<CommandReply>;

/** An alerter as the alarm sees it (docs/camera-alarm.md §6). */
export interface AlerterMember {
  readonly name: string;
  enabled: boolean;
  testGroup: boolean;
  /**
   * Change `enabled` at run time, persisted like a config_update (the off→on re-enable of docs/camera-alarm.md §6.2,
   * for alerters disabled at run time: see `SystemHub.runtimeDisabledAlerters`).
   */
  setEnabled(enabled: boolean): void;
}

/** A finished alarm clip as `GET /clips` lists it. Times are ms since the epoch. */
export interface ClipEntry {
  name: string;
  start: number;
  end: number;
  bytes: number;
  durationS: number;
}

/** A clip file the API may serve: found by its exact name inside the store's folder. */
export interface ClipFile {
  path: string;
  bytes: number;
  /** Content type (`video/mp4`, `video/x-msvideo`). */
  type: string;
}

/**
 * The recorder's clip folder as the API sees it (a `vigil-recorder` registers one with its
 * system hub; the API asks the hub). The store, not the API, decides what a name may open.
 */
export interface ClipStore {
  /** The folder clips are written to (`server.video_save_dir`). */
  readonly folder: string;
  /** Finished clips, newest first. */
  list(): Promise<ClipEntry[]>;
  /** The finished clip of exactly this name, or undefined (not a clip name, no such clip, not a plain file). */
  file(name: string): Promise<ClipFile | undefined>;
}

/**
 * Events a hub emits (node adapters subscribe with `on`):
 * - "status"  (AlarmStatus)           from the alarm, every second and on change
 * - "metrics" (DetectorMetrics)       from the motion detector, about 1 Hz
 * - "frame"   (jpeg: Buffer, FrameInfo) from the camera, every frame that passes the fps cap
 * - "config"  (document)              after a config change was applied
 * - "shutdown" (ShutdownInfo)         the API's shutdown (source "command") or a local stop: camera and detector stop
 * - "start" ()                        the system starts again after a shutdown: one of its nodes was
 *                                      deployed (a member registered) or its camera got a "start" message
 * - "alert"  (AlertEvent)             from the alarm, every alert it sends (a real alarm or a test)
 */
export type HubEvent = 'status' | 'metrics' | 'frame' | 'config' | 'shutdown' | 'start' | 'alert';

/** An alert the system's alarm sent (its output 2, docs/camera-alarm.md §6): a real alarm or a test. */
export interface AlertEvent {
  message: string;
  test: boolean;
  excluded: string[];
}
