/**
 * vigil-motion: the native-backed motion detector. Thin adapter over
 * lib/motion/detector.ts: settings → MotionDetector, detection seconds → output 1,
 * metrics → output 2 (and the system), the `processing` section of a vigil-system.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { DEFAULT_MOTION_SETTINGS, FrameOutcome, MotionDetector, MotionSettings, SecondEvent, validateMotionSettings } from '../../lib/motion/detector';
import type { EngineChoice } from '../../lib/motion/engine';
import type { EngineSelection } from '../../lib/motion/engines';
import type { SystemHub } from '../../lib/system/hub';
import type { AlarmStatus, ConfigError, ConfigSection, DetectorMetrics } from '../../lib/system/types';
import { errorMessage, flowClock } from '../util';

interface MotionDef extends NodeDef {
  system?: string;
  fps?: number | string;
  avgWeighting?: number | string;
  dilationIterations?: number | string;
  fixedLvlThreshold?: number | string;
  gaussKsize?: number | string;
  pixelThresholdLo?: number | string;
  pixelThresholdHi?: number | string;
  resizeWidth?: number | string;
  engine?: string;
}

/** Editor values as they come (strings allowed), not clamped: validation reports them. */
function num(v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  return typeof v === 'number' ? v : Number(v);
}

function settingsFrom(c: MotionDef): MotionSettings {
  const d = DEFAULT_MOTION_SETTINGS;
  return {
    fps: num(c.fps, d.fps),
    avgWeighting: num(c.avgWeighting, d.avgWeighting),
    dilationIterations: num(c.dilationIterations, d.dilationIterations),
    fixedLvlThreshold: num(c.fixedLvlThreshold, d.fixedLvlThreshold),
    gaussKsize: num(c.gaussKsize, d.gaussKsize),
    pixelThresholdLo: num(c.pixelThresholdLo, d.pixelThresholdLo),
    pixelThresholdHi: num(c.pixelThresholdHi, d.pixelThresholdHi),
    resizeWidth: num(c.resizeWidth, d.resizeWidth),
    engine: (c.engine || d.engine) as EngineChoice,
  };
}

/** The reference's `processing` section (snake_case), plus our two extra keys. */
const SECTION_KEYS: Array<[string, keyof MotionSettings]> = [
  ['fps', 'fps'],
  ['avg_weighting', 'avgWeighting'],
  ['dilation_iterations', 'dilationIterations'],
  ['fixed_lvl_threshold', 'fixedLvlThreshold'],
  ['gauss_ksize', 'gaussKsize'],
  ['pixel_threshold_hi', 'pixelThresholdHi'],
  ['pixel_threshold_lo', 'pixelThresholdLo'],
  ['resize_width', 'resizeWidth'],
  ['engine', 'engine'],
];
/** Keys the reference requires; `resize_width` and `engine` may be left out (kept as they are). */
const REQUIRED = new Set(['fps', 'avg_weighting', 'dilation_iterations', 'fixed_lvl_threshold', 'gauss_ksize', 'pixel_threshold_hi', 'pixel_threshold_lo']);
const INTEGER = new Set(['fps', 'dilation_iterations', 'gauss_ksize', 'resize_width']);

function toSection(s: MotionSettings): ConfigSection {
  const out: ConfigSection = {};
  for (const [snake, camel] of SECTION_KEYS) out[snake] = s[camel];
  return out;
}

function fromSection(p: ConfigSection, current: MotionSettings): { settings: MotionSettings; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const next: MotionSettings = { ...current };
  const rec = next as unknown as Record<string, unknown>;
  for (const [snake, camel] of SECTION_KEYS) {
    const v = p[snake];
    if (v === undefined || v === null) {
      if (REQUIRED.has(snake)) errors.push({ loc: ['processing', snake], msg: 'field required', type: 'value_error.missing' });
      continue;
    }
    if (snake === 'engine') {
      // The engine is created once, at deploy: a changed value here would be stored and
      // reported by /config while the old engine kept running.
      if (v !== current.engine) errors.push({ loc: ['processing', 'engine'], msg: `the engine cannot change through config_update (it is ${String(current.engine)}); change it in the node and redeploy`, type: 'value_error' });
      continue;
    }
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) {
      errors.push({ loc: ['processing', snake], msg: INTEGER.has(snake) ? 'value is not a valid integer' : 'value is not a valid float', type: INTEGER.has(snake) ? 'type_error.integer' : 'type_error.float' });
      continue;
    }
    rec[camel] = n;
  }
  if (errors.length === 0) {
    const camelToSnake = new Map(SECTION_KEYS.map(([s, c]) => [c, s]));
    for (const [field, msg] of validateMotionSettings(next)) errors.push({ loc: ['processing', camelToSnake.get(field) ?? field], msg, type: 'value_error' });
  }
  return { settings: next, errors };
}

export = function (RED: NodeAPI): void {
  function VigilMotionNode(this: Node, config: MotionDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- used in callbacks
    const node = this;
    const clock = flowClock(RED);
    const settings = settingsFrom(config);
    const invalid = validateMotionSettings(settings);
    const refuse = (why: string, statusKey: string): void => {
      node.status({ fill: 'red', shape: 'ring', text: statusKey });
      node.error(why);
      node.on('input', (_m: NodeMessageInFlow, _s: unknown, done: (err?: Error) => void) => done(new Error(why)));
      node.on('close', (_r: boolean, done: () => void) => done());
    };
    if (invalid.length > 0) {
      refuse(RED._('vigil-motion.errors.invalid', { why: invalid.map(([k, m]) => `${k}: ${m}`).join('; ') }), 'vigil-motion.status.invalid');
      return;
    }

    const detector = new MotionDetector(settings, { clock });
    let selection: EngineSelection;
    try {
      selection = detector.start();
    } catch (err) {
      void detector.close();
      refuse(RED._('vigil-motion.errors.engine', { error: errorMessage(err) }), 'vigil-motion.status.noEngine');
      return;
    }
    const engineName = selection.engine.name;
    node.log(RED._('vigil-motion.log.engine', { description: selection.description }));
    node.status({ fill: 'grey', shape: 'ring', text: RED._('vigil-motion.status.ready', { engine: engineName }) });

    const sys = config.system ? (RED.nodes.getNode(config.system) as unknown as { hub?: SystemHub } | null) : null;
    const hub = sys?.hub;
    const cleanups: Array<() => void> = [];
    let closed = false;
    /** Stopped by the system's shutdown; frames reaching the detector are then dropped. */
    let shutDown = false;
    /** Those dropped frames were warned about (once per shutdown). */
    let warnedDropped = false;
    const showShutdown = (): void => node.status({ fill: 'grey', shape: 'ring', text: 'vigil-motion.status.shutdown' });
    /** Detection status; while shut down the status keeps saying so (a frame in flight may still finish). */
    const show = (st: NodeStatus): void => {
      if (!shutDown) node.status(st);
    };

    detector.on('second', (s: SecondEvent) => {
      if (closed) return;
      const peak = Math.max(...s.counts);
      show(
        s.motion
          ? { fill: 'green', shape: 'dot', text: RED._('vigil-motion.status.motion', { engine: engineName, peak }) }
          : { fill: 'grey', shape: 'dot', text: RED._('vigil-motion.status.still', { engine: engineName, peak }) },
      );
      node.send([{ topic: 'motion', payload: s.motion, counts: s.counts, timestamp: s.timestamp } as NodeMessage, null]);
    });
    detector.on('metrics', (m: DetectorMetrics) => {
      if (closed) return;
      hub?.publishMetrics(m);
      node.send([null, { topic: 'metrics', payload: m }]);
    });
    detector.on('frameError', (e: Error, count: number) => {
      if (closed) return;
      node.warn(RED._('vigil-motion.errors.corrupt', { error: e.message, count }));
      show({ fill: 'yellow', shape: 'ring', text: RED._('vigil-motion.status.corrupt', { count }) });
    });
    detector.on('engineError', (e: Error) => {
      if (closed) return;
      node.error(RED._('vigil-motion.errors.engineFailed', { error: e.message }));
      show({ fill: 'red', shape: 'ring', text: 'vigil-motion.status.engineFailed' });
    });
    detector.on('reset', (reason: string) => {
      if (closed) return;
      if (/size/.test(reason)) node.warn(RED._('vigil-motion.errors.resized', { reason }));
    });

    if (hub) {
      try {
        cleanups.push(
          hub.register({
            section: 'processing',
            get: () => toSection(detector.current),
            validate: (p) => fromSection(p, detector.current).errors,
            apply: (p) => {
              const { settings: next, errors } = fromSection(p, detector.current);
              if (errors.length === 0) detector.configure(next);
            },
          }),
        );
      } catch (err) {
        node.error(errorMessage(err));
      }
      let lastState: AlarmStatus['state'] | undefined = hub.status?.state;
      const onStatus = (s: AlarmStatus): void => {
        // A stale background after the schedule's off period would make a spike (§12 #14).
        if (lastState === 'off' && s.state === 'on') detector.reset('monitoring started (off → on)');
        lastState = s.state;
      };
      const onShutdown = (): void => {
        shutDown = true;
        warnedDropped = false;
        detector.stop();
        showShutdown();
      };
      const onStart = (): void => {
        shutDown = false;
        detector.reset('system restarted');
        detector.start();
        node.status({ fill: 'grey', shape: 'ring', text: RED._('vigil-motion.status.ready', { engine: engineName }) });
      };
      hub.on('status', onStatus);
      hub.on('shutdown', onShutdown);
      hub.on('start', onStart);
      cleanups.push(() => {
        hub.off('status', onStatus);
        hub.off('shutdown', onShutdown);
        hub.off('start', onStart);
      });
      // Registering started the system again if it was shut down (this node was just deployed);
      // kept as a guard so the status never says "ready" for a stopped detector.
      if (!hub.running) onShutdown();
    }

    node.on('input', (msg: NodeMessageInFlow, _send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      const m = msg as NodeMessageInFlow & { payload?: unknown; frame?: { timestamp?: unknown } };
      const p = m.payload;
      if (p === 'reset') {
        detector.reset('reset message');
        done();
        return;
      }
      if (!Buffer.isBuffer(p)) {
        done(new Error(RED._('vigil-motion.errors.notBuffer', { type: p === null ? 'null' : typeof p })));
        return;
      }
      const ts = m.frame && typeof m.frame.timestamp === 'number' && Number.isFinite(m.frame.timestamp) ? m.frame.timestamp : undefined;
      try {
        // done() once the frame's fate is known: processed, not sampled, replaced by a newer one,
        // corrupt (warned), or stopped — by the system's shutdown: said once, not silently
        detector.push(p, ts, (o: FrameOutcome) => {
          if (o.kind === 'stopped' && shutDown && !closed && !warnedDropped) {
            warnedDropped = true;
            node.warn(RED._('vigil-motion.errors.droppedShutdown'));
          }
          done();
        });
      } catch (err) {
        done(new Error(RED._('vigil-motion.errors.notJpeg', { error: errorMessage(err) })));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      for (const c of cleanups.splice(0)) c();
      node.status({});
      detector.close().then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType('vigil-motion', VigilMotionNode);
};
