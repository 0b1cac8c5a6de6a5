/**
 * vigil-camera: a frame source. Thin adapter over lib/camera/camera.ts: settings → Camera,
 * frames → messages (and the system's latest frame), camera state → status, the `camera`
 * section of a vigil-system (lib/camera/section.ts), start/stop by message and by the
 * system's shutdown/start.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { Camera, CameraSettings, CameraState, SOURCE_KINDS, SourceKind } from '../../lib/camera/camera';
import { FailureReport } from '../../lib/camera/failures';
import { cameraSection } from '../../lib/camera/section';
import { splitArgs } from '../../lib/common/cli';
import type { FoundBinary } from '../../lib/common/ffmpeg';
import { RateLimitedWarner } from '../../lib/common/warn';
import type { FrameInfo } from '../../lib/system/types';
import { type Done, errorMessage, LOGIN_CREDENTIALS, type LoginCredentials, readNumber, scope, type Send, systemHub } from '../kit';

interface CameraDef extends NodeDef {
  system?: string;
  source?: string;
  url?: string;
  fps?: number | string;
  stallTimeout?: number | string;
  autoStart?: boolean;
  ffmpegPath?: string;
  ffmpegArgs?: string;
}

export = function (RED: NodeAPI): void {
  function VigilCameraNode(this: Node<LoginCredentials>, config: CameraDef): void {
    RED.nodes.createNode(this, config);
    const creds = this.credentials ?? {};
    const settings: CameraSettings = {
      source: (SOURCE_KINDS as readonly string[]).includes(config.source ?? '') ? (config.source as SourceKind) : 'mjpeg',
      url: (config.url ?? '').trim(),
      fps: readNumber(config.fps, 15, { min: 0, max: 120 }),
      stallTimeoutMs: readNumber(config.stallTimeout, 30, { min: 0, max: 3600 }) * 1000,
      username: creds.username || undefined,
      password: creds.password || undefined,
      ffmpegPath: (config.ffmpegPath ?? '').trim() || undefined,
      ffmpegInputArgs: splitArgs(config.ffmpegArgs),
    };
    const autoStart = config.autoStart !== false;
    const s = scope(RED, this);
    const camera = new Camera(settings, { clock: s.clock });
    // An ffmpeg source is waited for (SIGTERM, SIGKILL after 2 s), so a redeploy never runs
    // two ffmpeg processes against a camera that allows few sessions.
    s.defer(() => {
      camera.close();
      return camera.whenStopped();
    });
    const hub = systemHub(RED, config.system);
    /** Stopped by the system's shutdown; input frames dropped since were warned about (once). */
    let [shutDown, warnedDropped] = [false, false];

    // ---- status: state changes at once, the frame rate refreshed once a second while streaming
    let [framesAtTick, fps] = [0, 0];
    // Which ffmpeg runs (its setting, the system's, or the npm-shipped one): in the connecting
    // status, and logged whenever it changes.
    let [ffmpegUsed, ffmpegSource] = ['', ''];
    const look = (st: CameraState): NodeStatus => {
      if (st.state === 'connecting') return { fill: 'yellow', shape: 'ring', text: ffmpegUsed ? RED._('vigil-camera.status.connectingFfmpeg', { source: ffmpegSource }) : 'vigil-camera.status.connecting' };
      if (st.state === 'streaming') return { fill: 'green', shape: 'dot', text: RED._('vigil-camera.status.streaming', { fps: fps.toFixed(fps < 10 ? 1 : 0), frames: st.frames }) };
      if (st.state === 'waiting') return { fill: 'red', shape: 'ring', text: RED._('vigil-camera.status.retrying', { s: Math.round((st.retryInMs ?? 0) / 1000) }) };
      if (st.state === 'stalled') return { fill: 'yellow', shape: 'dot', text: 'vigil-camera.status.stalled' };
      const why = shutDown ? 'shutdown' : settings.url || settings.source === 'input' ? 'stopped' : 'noUrl';
      return { fill: 'grey', shape: 'ring', text: `vigil-camera.status.${why}` };
    };
    const show = (st: CameraState): void => {
      if (!s.closed) this.status(look(st));
    };
    s.every(1000, () => {
      fps = camera.stats.frames - framesAtTick;
      framesAtTick = camera.stats.frames;
      if (camera.state.state === 'streaming') show(camera.state);
    });

    // Two warnings, then an error for Catch nodes; each once per change (lib/camera/failures.ts).
    const report = new FailureReport();
    s.listen(camera, 'state', (st: CameraState) => {
      const level = st.state === 'waiting' && st.error ? report.failed(st.error) : undefined;
      const text = (): string => RED._('vigil-camera.errors.source', { source: settings.source, error: st.error ?? '' });
      if (level === 'error') this.error(text(), { payload: st.error, topic: 'error' });
      else if (level === 'warn') this.warn(text());
      else if (st.state === 'stalled' && st.error && report.stalled(st.error)) this.warn(RED._('vigil-camera.errors.stalled', { error: st.error }));
      show(st);
    });
    s.listen(camera, 'ffmpeg', (b: FoundBinary) => {
      if (b.describe === ffmpegUsed) return;
      [ffmpegUsed, ffmpegSource] = [b.describe, b.source];
      this.log(RED._('vigil-camera.log.ffmpeg', { ffmpeg: b.describe }));
      show(camera.state);
    });
    // A camera (or whatever answers at its URL) can send bad parts without end: rate-limited.
    const badWarner = new RateLimitedWarner((line) => this.warn(line), { clock: s.clock });
    s.defer(() => badWarner.dispose());
    s.listen(camera, 'bad', (reason: string) => badWarner.warn('bad frame', RED._('vigil-camera.errors.badFrame', { reason, count: camera.stats.bad })));
    s.listen(camera, 'frame', (jpeg: Buffer, info: FrameInfo) => {
      if (report.recovered()) this.log(RED._('vigil-camera.log.recovered'));
      hub?.publishFrame(jpeg, info);
      this.send({ topic: 'frame', payload: jpeg, frame: info } as NodeMessage);
    });

    const canStart = (): boolean => settings.source === 'input' || settings.url !== '';
    const start = (): void => {
      if (s.closed) return;
      // e.g. deployed while the system is shut down: say so rather than show nothing
      if (shutDown || !canStart()) show({ state: 'stopped', frames: 0 });
      else camera.start();
    };

    if (hub) {
      const setUrl = (url: string): void => {
        settings.url = url;
        const was = camera.running;
        camera.configure({ ...settings });
        if (!was && autoStart && !s.closed) start();
        else if (!canStart()) camera.stop();
      };
      try {
        s.defer(hub.register(cameraSection(() => settings.url, setUrl, { source: settings.source, heldSecrets: Boolean(settings.username || settings.password) })));
      } catch (err) {
        this.error(errorMessage(err));
      }
      s.listen(hub, 'shutdown', () => {
        shutDown = true;
        warnedDropped = false;
        camera.stop();
      });
      s.listen(hub, 'start', () => {
        shutDown = false;
        if (autoStart) start();
      });
      // (Registering started the system again if it was shut down: this node was just deployed.)
      if (!hub.running) shutDown = true;
    }

    if (autoStart) start();
    else show({ state: 'stopped', frames: 0 });

    this.on('input', (msg: NodeMessageInFlow, _send: Send, done: Done) => {
      const p = (msg as { payload?: unknown }).payload;
      if (p === 'start') {
        if (!canStart()) return done(new Error(RED._('vigil-camera.errors.noUrl')));
        // After the system's shutdown this starts the whole system again (the detector too).
        if (hub && !hub.running) {
          hub.start();
          this.log(RED._('vigil-camera.log.systemStarted'));
        }
        shutDown = false;
        start();
      } else if (p === 'stop') camera.stop();
      else if (!Buffer.isBuffer(p)) return done(new Error(RED._('vigil-camera.errors.badInput', { type: p === null ? 'null' : typeof p })));
      else if (settings.source !== 'input') return done(new Error(RED._('vigil-camera.errors.notInput')));
      else if (!camera.running) {
        if (shutDown && !warnedDropped) {
          warnedDropped = true; // not silently: say once why frames go nowhere
          this.warn(RED._('vigil-camera.errors.droppedShutdown'));
        }
      } else {
        const before = camera.stats.bad;
        // frames that pass the cap are sent by the 'frame' listener; the rest are dropped
        if (!camera.input(p) && camera.stats.bad > before) return done(new Error(RED._('vigil-camera.errors.notJpeg')));
      }
      done();
    });
  }

  RED.nodes.registerType<Node<LoginCredentials>, CameraDef, unknown, LoginCredentials>('vigil-camera', VigilCameraNode, {
    credentials: LOGIN_CREDENTIALS,
  });
};
