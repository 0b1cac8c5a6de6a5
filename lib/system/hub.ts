/**
 * The system hub behind a `vigil-system` config node: one monitored camera system
 * (one reference-app instance, docs/camera-alarm.md §0). Framework-free.
 *
 * - Members (camera, motion, alarm, alerters, api) register the configuration section they
 *   own; the hub assembles the configuration document (docs/camera-alarm.md §1.2) from their live settings,
 *   validates a submitted document as a whole and applies it section by section (nothing is
 *   applied when any part is invalid).
 * - Commands from the API are queued and handled strictly in order: `config_update` and
 *   `shutdown` by the hub, `silence`/`test`/`on`/`off` by the alarm's handler.
 * - Status, metrics and the latest frame are kept and re-emitted (see `HubEvent`).
 * - Runtime configuration changes are remembered as overrides `{ base, value }` per section:
 *   `base` is the member's own (editor) settings the change was made against. The node
 *   adapter persists `exportOverrides()` and hands them back through `importOverrides()` after
 *   a restart; when the member registers again with the same editor settings the runtime
 *   value is re-applied, and when the editor settings changed (a deploy) the editor wins.
 * - Stand-ins: a top section with no member (a system without a camera, whose activity comes
 *   from another sensor) is served as the settings its owning node would have by default, handed
 *   in by the node adapter (`standIns`): the reference's clients require every top section
 *   (docs/camera-alarm.md §8.1, §8.6). A `config_update` may send a stand-in back unchanged,
 *   never changed.
 * - Run state: the API's `shutdown` stops the camera and detector (`shutdown` event); a member
 *   registering again — one of the system's nodes deployed — or `start()` (the camera's
 *   "start" message) starts the whole system again (`start` event).
 */
import { EventEmitter } from 'node:events';
import { Clock, systemClock } from '../common/clock';
import { type LongTimer, longTimeout } from '../common/timer';
import { COMMANDS, isPlainObject, notDict, missing, validateData, valueError } from '../common/commands';
import { maskSection, unmaskSection } from './secrets';
import {
  AlarmStatus,
  AlertEvent,
  AlerterMember,
  ClipStore,
  CommandHandler,
  CommandName,
  CommandReply,
  ConfigError,
  ConfigSection,
  DetectorMetrics,
  FrameInfo,
  SectionMember,
} from './types';

/** The document's top-level sections, in the order of docs/camera-alarm.md §1.2. */
export const TOP_SECTIONS = ['server', 'camera', 'processing', 'alerting'] as const;
export type TopSection = (typeof TOP_SECTIONS)[number];

/** The node type that owns each top section (named in the error a changed stand-in gets). */
const SECTION_OWNERS: Record<TopSection, string> = { server: 'vigil-api', camera: 'vigil-camera', processing: 'vigil-motion', alerting: 'vigil-alarm' };

/**
 * What a top section with no member is served as: the settings its owning node would have
 * with its defaults. The node adapter hands them in (lib/system must not know the areas).
 */
export type StandIns = Partial<Record<TopSection, ConfigSection>>;

/** The assembled document: a top section when a member owns it or it has a stand-in; `alerters` always. */
export interface ConfigDocument {
  server?: ConfigSection;
  camera?: ConfigSection;
  processing?: ConfigSection;
  alerting?: ConfigSection;
  alerters: Record<string, ConfigSection>;
}

/** A runtime change of one section, and the member settings it was made against. */
export interface SectionOverride {
  base: ConfigSection;
  value: ConfigSection;
}
export type Overrides = Record<string, SectionOverride>;

export interface SystemHubOptions {
  clock?: Clock;
  name?: string;
  /** Served for top sections that have no member (see {@link StandIns}); none by default. */
  standIns?: StandIns;
}

/** Why the hub shut down: `command` = the API's `shutdown` (the node may exit the process). */
export interface ShutdownInfo {
  source: 'command' | 'local';
}


/** Structural equality for JSON-like values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Whether a section sent back for a stand-in changes it. Left out (or null) it does not; as
 * for a member's section (see `applySection`), key order, a key left out or null and a key
 * the section does not have (docs/camera-alarm.md §1.2: unknown keys are ignored) change nothing.
 */
function standInChanged(standIn: ConfigSection, sent: unknown): boolean {
  if (sent === undefined || sent === null) return false;
  if (!isPlainObject(sent)) return true;
  return Object.keys(standIn).some((k) => sent[k] !== undefined && sent[k] !== null && !deepEqual(sent[k], standIn[k]));
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function sectionPath(section: string): Array<string | number> {
  return section.split('.');
}

export class SystemHub extends EventEmitter {
  readonly name: string;
  readonly clock: Clock;
  private readonly members = new Map<string, SectionMember>();
  private readonly alerterList: AlerterMember[] = [];
  private handler?: CommandHandler;
  private overrides: Overrides = {};
  private queue: Promise<unknown> = Promise.resolve();
  private shutdownTimer?: LongTimer;
  private _running = true;
  private _status?: AlarmStatus;
  private _metrics?: DetectorMetrics;
  private _frame?: { jpeg: Buffer; info: FrameInfo };
  private _clipStore?: ClipStore;
  private readonly standIns: StandIns;

  constructor(opts: SystemHubOptions = {}) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.name = opts.name ?? '';
    this.standIns = clone(opts.standIns ?? {});
    // Many API clients and members listen; the default 10 would warn needlessly.
    this.setMaxListeners(0);
  }

  // ---------------------------------------------------------------- members & config

  /**
   * Register the member owning `member.section`; returns the unregister function. A member
   * registers when its node starts, i.e. when it is deployed: after a shutdown that starts the
   * system again (a deploy of any of the system's nodes undoes the API's `shutdown`).
   */
  register(member: SectionMember): () => void {
    const section = member.section;
    if (!/^(server|camera|processing|alerting|alerters\.[^.]+)$/.test(section)) {
      throw new RangeError(`vigil-system: "${section}" is not a configuration section`);
    }
    if (this.members.has(section)) {
      throw new Error(`vigil-system: section "${section}" already has a member (one ${section} per system)`);
    }
    this.members.set(section, member);
    this.restoreOverride(member);
    this.start();
    return () => {
      if (this.members.get(section) === member) this.members.delete(section);
    };
  }

  /** The member of a section, if any. */
  member(section: string): SectionMember | undefined {
    return this.members.get(section);
  }

  /** Sections that have a member, in document order. */
  sections(): string[] {
    const top = TOP_SECTIONS.filter((s) => this.members.has(s)) as string[];
    const alerters = [...this.members.keys()].filter((s) => s.startsWith('alerters.')).sort();
    return [...top, ...alerters];
  }

  /**
   * The configuration document (docs/camera-alarm.md §1.2) assembled from the members' live
   * settings; a top section without a member is its stand-in, if it has one.
   */
  getConfig(opts: { maskSecrets?: boolean } = {}): ConfigDocument {
    const doc: ConfigDocument = { alerters: {} };
    for (const section of this.sections()) {
      const member = this.members.get(section) as SectionMember;
      let value = clone(member.get());
      if (opts.maskSecrets) value = maskSection(member, value);
      if (section.startsWith('alerters.')) doc.alerters[section.slice('alerters.'.length)] = value;
      else doc[section as TopSection] = value;
    }
    for (const section of TOP_SECTIONS) {
      const standIn = this.standIns[section];
      if (!this.members.has(section) && standIn) doc[section] = clone(standIn);
    }
    return doc;
  }

  /** Errors for a whole proposed document (loc from the document root); [] = valid. */
  validateConfig(doc: unknown): ConfigError[] {
    return this.prepare(doc).errors;
  }

  /**
   * Validate the whole document, then apply every changed section to its member.
   * All or nothing; returns the errors ([] = applied). Emits `config` when something changed.
   */
  applyConfig(doc: unknown): ConfigError[] {
    const { errors, sections } = this.prepare(doc);
    if (errors.length > 0) return errors;
    let changed = false;
    for (const [section, value] of sections) {
      if (this.applySection(section, value)) changed = true;
    }
    if (changed) this.emit('config', this.getConfig());
    return [];
  }

  /**
   * Change some keys of one section at run time (e.g. an alerter re-enabled at off→on),
   * validated and persisted like a `config_update`. Returns the errors ([] = applied).
   */
  updateSection(section: string, patch: ConfigSection): ConfigError[] {
    const member = this.members.get(section);
    if (!member) return [valueError(sectionPath(section), 'no such section in this system', 'value_error.missing')];
    const value = { ...clone(member.get()), ...clone(patch) };
    const errors = member.validate(value);
    if (errors.length > 0) return errors;
    if (this.applySection(section, value)) this.emit('config', this.getConfig());
    return [];
  }

  /**
   * Runtime changes to persist (see the file comment). Secrets are masked: a secret changed
   * at run time is not written to storage and reverts to the node's credential after a restart.
   */
  exportOverrides(): Overrides {
    const out: Overrides = {};
    for (const [section, entry] of Object.entries(this.overrides)) {
      const member = this.members.get(section);
      out[section] = member ? { base: maskSection(member, entry.base), value: maskSection(member, entry.value) } : clone(entry);
    }
    return out;
  }

  /** Runtime changes restored from storage; applied to members as they register. */
  importOverrides(o: unknown): void {
    if (!isPlainObject(o)) return;
    for (const [section, entry] of Object.entries(o)) {
      if (isPlainObject(entry) && isPlainObject(entry.base) && isPlainObject(entry.value)) {
        this.overrides[section] = { base: clone(entry.base), value: clone(entry.value) };
        const member = this.members.get(section);
        if (member) this.restoreOverride(member);
      }
    }
  }

  /** Forget every runtime change (the editor's settings are the truth again). */
  clearOverrides(): void {
    this.overrides = {};
  }

  private applySection(section: string, proposed: ConfigSection): boolean {
    const member = this.members.get(section);
    if (!member) return false;
    const current = member.get();
    // A key left out (or null) keeps its current value: a reference-shaped document has no
    // `timezone`, `resize_width`, … and must neither reset them nor count as a change.
    const value: ConfigSection = clone(current);
    for (const [k, v] of Object.entries(proposed)) if (v !== undefined && v !== null) value[k] = v;
    if (deepEqual(current, value)) return false;
    const entry = this.overrides[section];
    const base = entry ? entry.base : clone(current);
    member.apply(clone(value));
    if (deepEqual(base, value)) delete this.overrides[section];
    else this.overrides[section] = { base, value: clone(value) };
    return true;
  }

  private restoreOverride(member: SectionMember): void {
    const entry = this.overrides[member.section];
    if (!entry) return;
    const current = member.get();
    if (!deepEqual(maskSection(member, current), maskSection(member, entry.base))) {
      // The editor settings changed since the runtime change: the deploy wins.
      delete this.overrides[member.section];
      this.emit('overrides', this.exportOverrides());
      return;
    }
    // The stored value has its secrets masked: they are restored from the member's settings
    // only under the rule of a config_update (same destination), else the change is dropped.
    const restored = unmaskSection(member, clone(entry.value), current, sectionPath(member.section));
    const value = 'value' in restored ? { ...clone(current), ...restored.value } : undefined;
    if (!value || member.validate(clone(value)).length > 0) {
      delete this.overrides[member.section];
      this.emit('overrides', this.exportOverrides());
      return;
    }
    this.overrides[member.section] = { base: clone(current), value: clone(value) };
    if (!deepEqual(current, value)) member.apply(clone(value));
  }

  /** Validate a document; on success the sections to apply, secrets unmasked. */
  private prepare(doc: unknown): { errors: ConfigError[]; sections: Array<[string, ConfigSection]> } {
    const errors: ConfigError[] = [];
    const sections: Array<[string, ConfigSection]> = [];
    if (!isPlainObject(doc)) {
      return { errors: [notDict(['__root__'])], sections };
    }
    // `flags` (command-line flags with a client-chosen file path, docs/camera-alarm.md §8.6, §12 #12) and
    // `monitoring` are accepted and ignored: nothing is read or written at a path a client chose.
    const alerters = doc.alerters;
    if (alerters !== undefined && alerters !== null && !isPlainObject(alerters)) errors.push(notDict(['alerters']));
    for (const section of TOP_SECTIONS) {
      const standIn = this.standIns[section];
      if (!this.members.has(section) && standIn && standInChanged(standIn, doc[section])) {
        errors.push(valueError([section], `this system has no ${SECTION_OWNERS[section]} node: the ${section} settings cannot be changed here`));
      }
    }
    for (const section of this.sections()) {
      const member = this.members.get(section) as SectionMember;
      const isAlerter = section.startsWith('alerters.');
      let value: unknown;
      if (isAlerter) {
        if (!isPlainObject(alerters)) continue; // optional (docs/camera-alarm.md §8.6)
        value = alerters[section.slice('alerters.'.length)];
        if (value === undefined || value === null) continue; // a missing alerter keeps its settings
      } else {
        value = doc[section];
        if (value === undefined || value === null) {
          errors.push(missing([section]));
          continue;
        }
      }
      if (!isPlainObject(value)) {
        errors.push(notDict(sectionPath(section)));
        continue;
      }
      const unmasked = unmaskSection(member, clone(value), member.get(), sectionPath(section));
      if ('errors' in unmasked) {
        errors.push(...unmasked.errors);
        continue;
      }
      const proposed = unmasked.value;
      let errs: ConfigError[];
      try {
        errs = member.validate(proposed);
      } catch (err) {
        errs = [valueError(sectionPath(section), err instanceof Error ? err.message : String(err))];
      }
      if (errs.length > 0) errors.push(...errs);
      else sections.push([section, proposed]);
    }
    return { errors, sections };
  }

  // ---------------------------------------------------------------- commands

  /** The alarm's handler for silence/test/on/off (undefined removes it). */
  setCommandHandler(h?: CommandHandler): void {
    this.handler = h;
  }

  get hasCommandHandler(): boolean {
    return this.handler !== undefined;
  }

  /**
   * Run a command; commands are processed strictly in order. `data` was shape-checked by the
   * caller. `config_update` errors carry loc from the command (`["data","config",…]`).
   */
  command(name: CommandName, data: Record<string, unknown>): Promise<CommandReply> {
    const run = (): Promise<CommandReply> => this.runCommand(name, data);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runCommand(name: CommandName, data: Record<string, unknown>): Promise<CommandReply> {
    if (!COMMANDS.includes(name)) return { error: `Unknown command "${String(name)}"` };
    try {
      if (name === 'config_update' || name === 'shutdown') {
        // The API validated already; any other caller (a wire command) gets the same check.
        const v = validateData(name, data);
        if ('errors' in v) return { error: v.errors };
        if (name === 'shutdown') {
          this.scheduleShutdown(v.data.shutdownIn as number);
          return { status: 'OK' };
        }
        const errors = this.applyConfig(v.data.config);
        if (errors.length > 0) return { error: errors.map((e) => ({ ...e, loc: ['data', 'config', ...e.loc] })) };
        return { status: 'OK' };
      }
      if (!this.handler) return { error: `No vigil-alarm node is attached to system "${this.name}": ${name} is not available` };
      return await this.handler(name, data);
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * Shut down (source `command`) after `seconds` (validated: at most 366 days); 0 = at the next
   * turn of the event loop, after the reply. A long timer: 30 days waits 30 days.
   */
  private scheduleShutdown(seconds: number): void {
    this.shutdownTimer?.clear();
    this.shutdownTimer = longTimeout(
      this.clock,
      () => {
        this.shutdownTimer = undefined;
        this.shutdown({ source: 'command' });
      },
      seconds * 1000,
    );
  }

  // ---------------------------------------------------------------- live data

  publishStatus(s: AlarmStatus): void {
    this._status = s;
    this.emit('status', s);
  }

  get status(): AlarmStatus | undefined {
    return this._status;
  }

  publishMetrics(m: DetectorMetrics): void {
    this._metrics = m;
    this.emit('metrics', m);
  }

  get metrics(): DetectorMetrics | undefined {
    return this._metrics;
  }

  publishFrame(jpeg: Buffer, info: FrameInfo): void {
    this._frame = { jpeg, info };
    this.emit('frame', jpeg, info);
  }

  get frame(): { jpeg: Buffer; info: FrameInfo } | undefined {
    return this._frame;
  }

  /** The alarm's alerts (real and test) for members that act on them, e.g. the recorder. */
  publishAlert(a: AlertEvent): void {
    this.emit('alert', a);
  }

  // ---------------------------------------------------------------- clips

  /** The recorder's clip folder, served by the API (one per system); returns the unregister function. */
  registerClipStore(store: ClipStore): () => void {
    if (this._clipStore) throw new Error('vigil-system: this system already has a recorder (one per system)');
    this._clipStore = store;
    return () => {
      if (this._clipStore === store) this._clipStore = undefined;
    };
  }

  get clipStore(): ClipStore | undefined {
    return this._clipStore;
  }

  // ---------------------------------------------------------------- alerters

  registerAlerter(a: AlerterMember): () => void {
    if (this.alerterList.some((x) => x.name === a.name)) {
      throw new Error(`vigil-system: an alerter named "${a.name}" is already registered`);
    }
    this.alerterList.push(a);
    return () => {
      const i = this.alerterList.indexOf(a);
      if (i >= 0) this.alerterList.splice(i, 1);
    };
  }

  alerters(): AlerterMember[] {
    return [...this.alerterList];
  }

  /**
   * Alerters disabled at run time: enabled in their node's own (editor) settings and disabled
   * since by a `config_update`. An alerter unticked in the editor is not one of them.
   */
  runtimeDisabledAlerters(): AlerterMember[] {
    return this.alerterList.filter((a) => {
      if (a.enabled) return false;
      const entry = this.overrides[`alerters.${a.name}`];
      return entry !== undefined && entry.base.enabled === true && entry.value.enabled === false;
    });
  }

  // ---------------------------------------------------------------- run state

  get running(): boolean {
    return this._running;
  }

  /** Stop the camera and detector (they listen to `shutdown`). */
  shutdown(info: ShutdownInfo = { source: 'local' }): void {
    this.shutdownTimer?.clear();
    this.shutdownTimer = undefined;
    this._running = false;
    this.emit('shutdown', info);
  }

  /** Start again after a shutdown (camera and detector listen to `start`); no-op while running. */
  start(): void {
    if (this._running) return;
    this._running = true;
    this.emit('start');
  }

  /** Free timers and listeners (the config node's close). */
  dispose(): void {
    this.shutdownTimer?.clear();
    this.shutdownTimer = undefined;
    this.handler = undefined;
    this.removeAllListeners();
  }
}
