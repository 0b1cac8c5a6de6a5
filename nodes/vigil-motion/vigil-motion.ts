/**
 * vigil-motion: the native-backed motion detector. Thin adapter over
 * lib/motion/detector.ts: settings → MotionDetector, detection seconds → output 1,
 * metrics → output 2 (and the system), the `processing` section of a vigil-system
 * (lib/motion/section.ts).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { DEFAULT_MOTION_SETTINGS, FrameOutcome, MotionDetector, MotionSettings, SecondEvent, validateMotionSettings } from '../../lib/motion/detector';
import type { EngineChoice } from '../../lib/motion/engine';
import type { EngineSelection } from '../../lib/motion/engines';
import { processingSection } from '../../lib/motion/section';
import type { AlarmStatus, DetectorMetrics } from '../../lib/system/types';
import { type Done, type EditorSettings, errorMessage, flowClock, readNumbers, refuse, scope, type Send, systemHub } from '../kit';

interface MotionDef extends NodeDef, EditorSettings<MotionSettings> {
  system?: string;
}

/** Editor values as they come (not clamped): validation reports them. */
function settingsFrom(c: MotionDef): MotionSettings {
  const d = DEFAULT_MOTION_SETTINGS;
  return { ...readNumbers(c, d), engine: (c.engine || d.engine) as EngineChoice };
}

export = function (RED: NodeAPI): void {
  function VigilMotionNode(this: Node, config: MotionDef): void {
    RED.nodes.createNode(this, config);
    const settings = settingsFrom(config);
    const invalid = validateMotionSettings(settings);
    if (invalid.length > 0) {
      refuse(this, RED._('vigil-motion.errors.invalid', { why: invalid.map(([k, m]) => `${k}: ${m}`).join('; ') }), 'vigil-motion.status.invalid');
      return;
    }
    const detector = new MotionDetector(settings, { clock: flowClock(RED) });
    let selection: EngineSelection;
    try {
      selection = detector.start();
    } catch (err) {
      void detector.close();
      refuse(this, RED._('vigil-motion.errors.engine', { error: errorMessage(err) }), 'vigil-motion.status.noEngine');
      return;
    }
    const s = scope(RED, this);
    s.defer(() => detector.close());
    const hub = systemHub(RED, config.system);
    const engine = selection.engine.name;
    this.log(RED._('vigil-motion.log.engine', { description: selection.description }));
    const showReady = (): void => this.status({ fill: 'grey', shape: 'ring', text: RED._('vigil-motion.status.ready', { engine }) });
    showReady();

    /** Stopped by the system's shutdown; frames reaching the detector are then dropped (warned once). */
    let shutDown = false;
    let warnedDropped = false;
    /** Detection status; while shut down the status keeps saying so (a frame in flight may still finish). */
    const show = (st: NodeStatus): void => {
      if (!shutDown) this.status(st);
    };

    s.listen(detector, 'second', (e: SecondEvent) => {
      const peak = Math.max(...e.counts);
      show({ fill: e.motion ? 'green' : 'grey', shape: 'dot', text: RED._(e.motion ? 'vigil-motion.status.motion' : 'vigil-motion.status.still', { engine, peak }) });
      this.send([{ topic: 'motion', payload: e.motion, counts: e.counts, timestamp: e.timestamp } as NodeMessage, null]);
    });
    s.listen(detector, 'metrics', (m: DetectorMetrics) => {
      hub?.publishMetrics(m);
      this.send([null, { topic: 'metrics', payload: m }]);
    });
    s.listen(detector, 'frameError', (e: Error, count: number) => {
      this.warn(RED._('vigil-motion.errors.corrupt', { error: e.message, count }));
      show({ fill: 'yellow', shape: 'ring', text: RED._('vigil-motion.status.corrupt', { count }) });
    });
    s.listen(detector, 'engineError', (e: Error) => {
      this.error(RED._('vigil-motion.errors.engineFailed', { error: e.message }));
      show({ fill: 'red', shape: 'ring', text: 'vigil-motion.status.engineFailed' });
    });
    s.listen(detector, 'reset', (reason: string) => {
      if (/size/.test(reason)) this.warn(RED._('vigil-motion.errors.resized', { reason }));
    });

    if (hub) {
      try {
        s.defer(hub.register(processingSection(() => detector.current, (next) => detector.configure(next))));
      } catch (err) {
        this.error(errorMessage(err));
      }
      let lastState: AlarmStatus['state'] | undefined = hub.status?.state;
      s.listen(hub, 'status', (st: AlarmStatus) => {
        // A stale background after the schedule's off period would make a spike (docs/camera-alarm.md §12 #14).
        if (lastState === 'off' && st.state === 'on') detector.reset('monitoring started (off → on)');
        lastState = st.state;
      });
      const onShutdown = (): void => {
        shutDown = true;
        warnedDropped = false;
        detector.stop();
        this.status({ fill: 'grey', shape: 'ring', text: 'vigil-motion.status.shutdown' });
      };
      s.listen(hub, 'shutdown', onShutdown);
      s.listen(hub, 'start', () => {
        shutDown = false;
        detector.reset('system restarted');
        detector.start();
        showReady();
      });
      // Registering started the system again if it was shut down (this node was just deployed);
      // kept as a guard so the status never says "ready" for a stopped detector.
      if (!hub.running) onShutdown();
    }

    this.on('input', (msg: NodeMessageInFlow, _send: Send, done: Done) => {
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
          if (o.kind === 'stopped' && shutDown && !s.closed && !warnedDropped) {
            warnedDropped = true;
            this.warn(RED._('vigil-motion.errors.droppedShutdown'));
          }
          done();
        });
      } catch (err) {
        done(new Error(RED._('vigil-motion.errors.notJpeg', { error: errorMessage(err) })));
      }
    });
  }

  RED.nodes.registerType('vigil-motion', VigilMotionNode);
};
