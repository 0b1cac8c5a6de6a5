/**
 * halo-poll: polls a HALO's Event Data URL through its halo-sensor and emits changes,
 * snapshots or set/reset transitions. Thin adapter over lib/halo/poller.ts.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import { systemClock } from '../../lib/common/clock';
import { HaloPoller, type PollOutput } from '../../lib/halo/poller';
import type { HaloSensorNode } from '../halo-sensor/sensor-types';
import { numberSetting } from '../util';

interface PollDef extends NodeDef {
  sensor?: string;
  interval?: number | string;
  output?: string;
}

const OUTPUTS: readonly PollOutput[] = ['changes', 'snapshot', 'transitions'];

function clockTime(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export = function (RED: NodeAPI): void {
  function HaloPoll(this: Node, config: PollDef): void {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- used in callbacks
    const node = this;
    const sensor = config.sensor ? (RED.nodes.getNode(config.sensor) as HaloSensorNode | null) : null;
    const output: PollOutput = OUTPUTS.includes(config.output as PollOutput) ? (config.output as PollOutput) : 'changes';
    const intervalS = numberSetting(config.interval, 10, 1, 86400);
    let poller: HaloPoller | undefined;

    const status = (): void => {
      if (!poller) return;
      let st: NodeStatus;
      if (poller.error) st = { fill: 'red', shape: 'ring', text: RED._('halo-poll.status.error', { error: poller.error.message.slice(0, 40) }) };
      else if (!poller.isRunning && poller.polls === 0) st = { fill: 'grey', shape: 'ring', text: RED._('halo-poll.status.stopped') };
      else if (poller.lastPollAt === undefined) st = { fill: 'yellow', shape: 'ring', text: RED._('halo-poll.status.polling') };
      else {
        const snap = poller.snapshot;
        const key = poller.isRunning ? 'halo-poll.status.ok' : 'halo-poll.status.paused';
        st = { fill: poller.isRunning ? 'green' : 'grey', shape: 'dot', text: RED._(key, { active: snap ? snap.active.length : 0, time: clockTime(poller.lastPollAt) }) };
      }
      node.status(st);
    };

    if (!sensor || sensor.configError) {
      const why = !sensor ? RED._('halo-poll.errors.noSensor') : sensor.configError;
      node.status({ fill: 'red', shape: 'ring', text: RED._('halo-poll.status.noSensor') });
      node.error(why);
    } else {
      poller = new HaloPoller(
        {
          source: sensor.client,
          device: sensor.deviceName,
          eventsPath: sensor.eventsPath,
          thresholdsPath: sensor.thresholdsPath,
          intervalMs: intervalS * 1000,
          output,
          clock: systemClock,
        },
        {
          // transitions carry msg.raw like halo-in output 1
          messages: (out) => node.send([out.map((m) => (m.raw === undefined ? { topic: m.topic, payload: m.payload } : { topic: m.topic, payload: m.payload, raw: m.raw }))]),
          error: (err, changed, retryInMs) => {
            if (changed) {
              node.error(RED._('halo-poll.errors.poll', { error: err.message, seconds: Math.round(retryInMs / 1000) }), {
                topic: `${sensor.deviceName}/error`,
                payload: { device: sensor.deviceName, error: err.message, code: err.code, status: err.status },
              });
            }
          },
          recovered: () => node.log(RED._('halo-poll.log.recovered', { device: sensor.deviceName })),
          thresholdsError: (err) => node.warn(RED._('halo-poll.errors.thresholds', { error: err.message })),
          state: status,
        },
      );
      status();
    }

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      if (!poller) {
        done(new Error(RED._('halo-poll.errors.noSensor')));
        return;
      }
      const cmd = typeof msg.payload === 'string' ? msg.payload.trim().toLowerCase() : '';
      if (cmd === 'stop') poller.stop();
      else if (cmd === 'start') poller.start();
      else poller.pollNow();
      status();
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      poller?.close();
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('halo-poll', HaloPoll);
};
