/**
 * vigil-camera: a frame source. Thin adapter over lib/camera/camera.ts: settings → Camera,
 * frames → messages (and the system's latest frame), camera state → status, the `camera`
 * section of a vigil-system, start/stop by message and by the system's shutdown/start.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { Camera, CameraSettings, CameraState, SOURCE_KINDS, SourceKind } from '../../lib/camera/camera';
import { Clock, TimerHandle, systemClock } from '../../lib/common/clock';
import { RateLimitedWarner } from '../../lib/common/warn';
import type { SystemHub } from '../../lib/system/hub';
import type { ConfigError, ConfigSection, FrameInfo } from '../../lib/system/types';
import { errorMessage, flowClock, numberSetting } from '../util';

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

interface CameraCredentials {
  username?: string;
  password?: string;
}

/** Split user-typed ffmpeg arguments on whitespace, honouring simple quotes. */
function splitArgs(s: string | undefined): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s ?? '')) !== null) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

export = function (RED: NodeAPI): void {
  function VigilCameraNode(this: Node<CameraCredentials>, config: CameraDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- used in callbacks
    const node = this;
    const clock: Clock = flowClock(RED) ?? systemClock;
    const creds = node.credentials ?? {};
    const source = (SOURCE_KINDS as readonly string[]).includes(config.source ?? '') ? (config.source as SourceKind) : 'mjpeg';
    const settings: CameraSettings = {
      source,
      url: (config.url ?? '').trim(),
      fps: numberSetting(config.fps, 15, 0, 120),
      stallTimeoutMs: numberSetting(config.stallTimeout, 30, 0, 3600) * 1000,
      username: creds.username || undefined,
      password: creds.password || undefined,
      ffmpegPath: (config.ffmpegPath ?? '').trim() || undefined,
      ffmpegInputArgs: splitArgs(config.ffmpegArgs),
    };
    const autoStart = config.autoStart !== false;
    const camera = new Camera(settings, { clock });
    const sys = config.system ? (RED.nodes.getNode(config.system) as unknown as { hub?: SystemHub } | null) : null;
    const hub = sys?.hub;
    const cleanups: Array<() => void> = [];
    let closed = false;
    let lastError = '';
    let shutDown = false;
    /** Input frames dropped since the shutdown were warned about (once per shutdown). */
    let warnedDropped = false;

    // ---- status: state changes at once, the frame rate refreshed once a second while streaming
    let framesAtTick = 0;
    let fps = 0;
    const show = (s: CameraState): void => {
      if (closed) return;
      switch (s.state) {
        case 'stopped':
          node.status({
            fill: 'grey',
            shape: 'ring',
            text: shutDown ? 'vigil-camera.status.shutdown' : settings.url || settings.source === 'input' ? 'vigil-camera.status.stopped' : 'vigil-camera.status.noUrl',
          });
          break;
        case 'connecting':
          node.status({ fill: 'yellow', shape: 'ring', text: 'vigil-camera.status.connecting' });
          break;
        case 'streaming':
          node.status({ fill: 'green', shape: 'dot', text: RED._('vigil-camera.status.streaming', { fps: fps.toFixed(fps < 10 ? 1 : 0), frames: s.frames }) });
          break;
        case 'waiting':
          node.status({ fill: 'red', shape: 'ring', text: RED._('vigil-camera.status.retrying', { s: Math.round((s.retryInMs ?? 0) / 1000) }) });
          break;
        case 'stalled':
          node.status({ fill: 'yellow', shape: 'dot', text: 'vigil-camera.status.stalled' });
          break;
      }
    };
    const tick: TimerHandle = clock.setInterval(() => {
      const n = camera.stats.frames;
      fps = n - framesAtTick;
      framesAtTick = n;
      const s = camera.state;
      if (s.state === 'streaming') show(s);
    }, 1000);
    cleanups.push(() => clock.clearInterval(tick));

    // Failures in a row since the last frame. The first two are warnings (a camera that is
    // still booting, a simulator that starts with Node-RED); from the third on the error goes
    // to Catch nodes, once per change of error (not at every retry).
    let failures = 0;
    let lastErrorLevel = '';
    camera.on('state', (s: CameraState) => {
      if (closed) return;
      if (s.state === 'waiting' && s.error) {
        failures++;
        const level = failures >= 3 ? 'error' : 'warn';
        if (s.error !== lastError || level !== lastErrorLevel) {
          lastError = s.error;
          lastErrorLevel = level;
          const text = RED._('vigil-camera.errors.source', { source: settings.source, error: s.error });
          if (level === 'error') node.error(text, { payload: s.error, topic: 'error' });
          else node.warn(text);
        }
      } else if (s.state === 'stalled' && s.error && s.error !== lastError) {
        lastError = s.error;
        node.warn(RED._('vigil-camera.errors.stalled', { error: s.error }));
      }
      show(s);
    });
    // A camera (or whatever answers at its URL) can send bad parts without end: rate-limited.
    const badWarner = new RateLimitedWarner((line) => node.warn(line), { clock });
    cleanups.push(() => badWarner.dispose());
    camera.on('bad', (reason: string) => {
      if (!closed) badWarner.warn('bad frame', RED._('vigil-camera.errors.badFrame', { reason, count: camera.stats.bad }));
    });
    camera.on('frame', (jpeg: Buffer, info: FrameInfo) => {
      if (closed) return;
      if (failures > 0 || lastError) {
        if (lastError) node.log(RED._('vigil-camera.log.recovered'));
        lastError = '';
        lastErrorLevel = '';
        failures = 0;
      }
      hub?.publishFrame(jpeg, info);
      node.send({ topic: 'frame', payload: jpeg, frame: info } as NodeMessage);
    });

    const canStart = (): boolean => settings.source === 'input' || settings.url !== '';
    const start = (): void => {
      if (closed) return;
      if (shutDown || !canStart()) {
        // e.g. deployed while the system is shut down: say so rather than show nothing
        show({ state: 'stopped', frames: 0 });
        return;
      }
      camera.start();
    };

    // ---- the system's `camera` section: { url }
    if (hub) {
      try {
        cleanups.push(
          hub.register({
            section: 'camera',
            // A URL with credentials in it (rtsp://user:pass@…) is served masked, like any secret.
            get secretKeys(): string[] {
              return /^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(settings.url) ? ['url'] : [];
            },
            get: (): ConfigSection => ({ url: settings.url }),
            validate: (p: ConfigSection): ConfigError[] =>
              typeof p.url === 'string' ? [] : [{ loc: ['camera', 'url'], msg: p.url === undefined ? 'field required' : 'str type expected', type: p.url === undefined ? 'value_error.missing' : 'type_error.str' }],
            apply: (p: ConfigSection): void => {
              const url = String(p.url ?? '').trim();
              if (url === settings.url) return;
              settings.url = url;
              const was = camera.running;
              camera.configure({ ...settings });
              if (!was && autoStart && !closed) start();
              else if (!canStart()) camera.stop();
            },
          }),
        );
      } catch (err) {
        node.error(errorMessage(err));
      }
      const onShutdown = (): void => {
        shutDown = true;
        warnedDropped = false;
        camera.stop();
      };
      const onStart = (): void => {
        shutDown = false;
        if (autoStart) start();
      };
      hub.on('shutdown', onShutdown);
      hub.on('start', onStart);
      cleanups.push(() => {
        hub.off('shutdown', onShutdown);
        hub.off('start', onStart);
      });
      // (Registering started the system again if it was shut down: this node was just deployed.)
      if (!hub.running) shutDown = true;
    }

    if (autoStart) start();
    else show({ state: 'stopped', frames: 0 });

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      const p = (msg as { payload?: unknown }).payload;
      if (p === 'start') {
        if (!canStart()) {
          done(new Error(RED._('vigil-camera.errors.noUrl')));
          return;
        }
        // After the system's shutdown this starts the whole system again (the detector too).
        if (hub && !hub.running) {
          hub.start();
          node.log(RED._('vigil-camera.log.systemStarted'));
        }
        shutDown = false;
        start();
        done();
        return;
      }
      if (p === 'stop') {
        camera.stop();
        done();
        return;
      }
      if (Buffer.isBuffer(p)) {
        if (settings.source !== 'input') {
          done(new Error(RED._('vigil-camera.errors.notInput')));
          return;
        }
        if (!camera.running) {
          if (shutDown && !warnedDropped) {
            // not silently: say once why frames go nowhere
            warnedDropped = true;
            node.warn(RED._('vigil-camera.errors.droppedShutdown'));
          }
          done();
          return;
        }
        const before = camera.stats.bad;
        const info = camera.input(p);
        if (!info && camera.stats.bad > before) {
          done(new Error(RED._('vigil-camera.errors.notJpeg')));
          return;
        }
        // frames that pass the cap were sent by the 'frame' handler; the rest were dropped
        done();
        return;
      }
      done(new Error(RED._('vigil-camera.errors.badInput', { type: p === null ? 'null' : typeof p })));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      for (const c of cleanups.splice(0)) c();
      camera.close();
      node.status({});
      // An ffmpeg source is waited for (SIGTERM, SIGKILL after 2 s), so a redeploy never runs
      // two ffmpeg processes against a camera that allows few sessions.
      camera.whenStopped().then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType<Node<CameraCredentials>, CameraDef, unknown, CameraCredentials>('vigil-camera', VigilCameraNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
