/**
 * vigil-recorder: a clip of what the camera saw around every real alarm. Thin adapter over
 * lib/recorder/recorder.ts: settings → Recorder; the system's frames and alerts (or frames and
 * "record" on the input) → the recorder; each finished clip → one message; the clip folder
 * registered with the system hub so vigil-api serves it (`/clips`, `server.video_save_dir`).
 */
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { findFfmpeg } from '../../lib/common/ffmpeg';
import { Recorder, type ClipResult, type RecorderFormat, type RecorderState } from '../../lib/recorder/recorder';
import { nameLabel } from '../../lib/recorder/naming';
import type { AlertEvent } from '../../lib/system/types';
import { type Done, errorMessage, readNumber, refuse, scope, type Send, systemHub } from '../kit';

interface RecorderDef extends NodeDef {
  system?: string;
  folder?: string;
  preSeconds?: number | string;
  postSeconds?: number | string;
  format?: string;
  maxAgeDays?: number | string;
  quotaMB?: number | string;
  bufferMB?: number | string;
  ffmpegPath?: string;
}

/** The reference's pre-alarm buffer: 1.5 × the alarm's alert time (camera-alarm.md §7). */
const PRE_FACTOR = 1.5;
const DEFAULT_ALERT_TIME_S = 180;
const FORMATS: readonly RecorderFormat[] = ['auto', 'mp4', 'avi'];
const CLOSE_GRACE_MS = 8000;

/** An alert as vigil-alarm's output 2 sends it: `{ message, test, … }`. */
function alertTest(payload: unknown): boolean | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const p = payload as { message?: unknown; test?: unknown };
  return typeof p.message === 'string' && typeof p.test === 'boolean' ? p.test : undefined;
}

export = function (RED: NodeAPI): void {
  function VigilRecorderNode(this: Node, config: RecorderDef): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, args?: Record<string, string | number>): string => RED._(`vigil-recorder.${key}`, args);

    const folderSetting = (config.folder ?? '').trim();
    if (!folderSetting) return refuse(this, t('errors.noFolder'), 'vigil-recorder.status.noFolder');
    const format = (config.format || 'auto') as RecorderFormat;
    if (!FORMATS.includes(format)) return refuse(this, t('errors.badFormat', { format: String(config.format) }), 'vigil-recorder.status.invalid');
    // A relative folder is inside Node-RED's user directory, like its other files.
    const userDir = typeof RED.settings.userDir === 'string' ? RED.settings.userDir : process.cwd();
    const folder = path.resolve(userDir, folderSetting);

    const s = scope(RED, this);
    const hub = systemHub(RED, config.system);
    const preSetting = readNumber(config.preSeconds, NaN, { min: 0, max: 3600 });
    const alertTimeS = (): number => {
      const a = hub?.member('alerting')?.get().alert_time_s;
      return typeof a === 'number' && a > 0 ? a : DEFAULT_ALERT_TIME_S;
    };
    const configured = (config.ffmpegPath ?? '').trim();
    /** Which ffmpeg the lookup found (for the log line once the container is chosen). */
    let ffmpegUsed = '';
    const recorder = new Recorder({
      folder,
      label: nameLabel(hub?.name || this.name) || 'vigil',
      preSeconds: Number.isNaN(preSetting) ? () => PRE_FACTOR * alertTimeS() : preSetting,
      postSeconds: readNumber(config.postSeconds, 10, { min: 0, max: 3600 }),
      format,
      ffmpeg: async () => {
        const found = findFfmpeg({ configured });
        ffmpegUsed = found.describe;
        return found.path;
      },
      maxAgeDays: readNumber(config.maxAgeDays, 7, { min: 0, max: 3650 }),
      quotaMB: readNumber(config.quotaMB, 2048, { min: 0 }),
      maxBufferBytes: readNumber(config.bufferMB, 100, { min: 1, max: 4096 }) * 1024 * 1024,
      clock: s.clock,
    });

    const show = (st: RecorderState): void => {
      switch (st.phase) {
        case 'starting':
          this.status({ fill: 'yellow', shape: 'ring', text: 'vigil-recorder.status.starting' });
          break;
        case 'idle':
          this.status({ fill: st.fallback && format === 'mp4' ? 'yellow' : 'green', shape: 'ring', text: t('status.ready', { format: st.format ?? '?' }) });
          break;
        case 'recording':
          this.status({ fill: 'red', shape: 'dot', text: t('status.recording', { name: st.clip ?? '…' }) });
          break;
        case 'error':
          this.status({ fill: 'red', shape: 'ring', text: t('status.error', { error: (st.error ?? '').slice(0, 60) }) });
          break;
        default:
          break;
      }
    };
    s.listen(recorder, 'state', show);
    s.listen(recorder, 'error', (err: Error) => this.error(err.message));
    s.listen(recorder, 'warn', (w: string) => this.warn(w));
    s.listen(recorder, 'info', (m: string) => this.log(m));
    s.listen(recorder, 'deleted', (names: string[]) => this.log(t('log.deleted', { n: names.length, names: names.join(', ') })));
    s.listen(recorder, 'clip', (c: ClipResult) => {
      const { path: file, ...clip } = c;
      this.send({ topic: 'clip', payload: file, clip } as NodeMessage);
    });
    show(recorder.state);
    void s.track(
      recorder.start().then(() => {
        if (recorder.state.format === 'mp4') this.log(t('log.mp4', { ffmpeg: ffmpegUsed, folder }));
        else if (recorder.state.format === 'avi') this.log(t('log.avi', { folder }));
      }),
    );
    // A clip being recorded is completed; an encoder still busy after 8 s is stopped, inside the
    // kit's 10 s close budget.
    s.defer(() => recorder.close(CLOSE_GRACE_MS));

    if (hub) {
      s.listen(hub, 'frame', (jpeg: Buffer) => recorder.frame(jpeg));
      s.listen(hub, 'alert', (a: AlertEvent) => recorder.alarm({ test: a.test }));
      try {
        s.defer(hub.registerClipStore(recorder.store));
      } catch (err) {
        this.warn(errorMessage(err));
      }
    }

    this.on('input', (msg: NodeMessageInFlow, _send: Send, done: Done) => {
      const p = (msg as { payload?: unknown }).payload;
      if (Buffer.isBuffer(p)) {
        if (recorder.frame(p)) done();
        else done(new Error(t('errors.notJpeg')));
        return;
      }
      if (p === 'record') {
        recorder.alarm();
        done();
        return;
      }
      const test = alertTest(p);
      if (test !== undefined) {
        // vigil-alarm's output 2 wired in: real alarms record, tests never do.
        recorder.alarm({ test });
        done();
        return;
      }
      done(new Error(t('errors.badInput', { type: p === null ? 'null' : typeof p })));
    });
  }

  RED.nodes.registerType('vigil-recorder', VigilRecorderNode);
};
