/**
 * halo-poll: polls a HALO's Event Data URL through its halo-sensor and emits changes,
 * snapshots or set/reset transitions. Thin adapter over lib/halo/poller.ts.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import { HaloPoller, type PollOutput } from '../../lib/halo/poller';
import type { HaloSensorNode } from '../halo-sensor/sensor-types';
import { configNode, type Done, readNumber, refuse, scope, type Send } from '../kit';

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
    const sensor = configNode<HaloSensorNode>(RED, config.sensor);
    if (!sensor || sensor.configError) {
      refuse(this, sensor ? sensor.configError : RED._('halo-poll.errors.noSensor'), RED._('halo-poll.status.noSensor'));
      return;
    }
    const output: PollOutput = OUTPUTS.includes(config.output as PollOutput) ? (config.output as PollOutput) : 'changes';
    const s = scope(RED, this);
    const device = sensor.deviceName;

    const status = (): void => {
      let st: NodeStatus;
      if (poller.error) st = { fill: 'red', shape: 'ring', text: RED._('halo-poll.status.error', { error: poller.error.message.slice(0, 40) }) };
      else if (!poller.isRunning && poller.polls === 0) st = { fill: 'grey', shape: 'ring', text: RED._('halo-poll.status.stopped') };
      else if (poller.lastPollAt === undefined) st = { fill: 'yellow', shape: 'ring', text: RED._('halo-poll.status.polling') };
      else {
        const snap = poller.snapshot;
        const key = poller.isRunning ? 'halo-poll.status.ok' : 'halo-poll.status.paused';
        st = { fill: poller.isRunning ? 'green' : 'grey', shape: 'dot', text: RED._(key, { active: snap ? snap.active.length : 0, time: clockTime(poller.lastPollAt) }) };
      }
      this.status(st);
    };

    const poller: HaloPoller = new HaloPoller(
      {
        source: sensor.client,
        device,
        eventsPath: sensor.eventsPath,
        thresholdsPath: sensor.thresholdsPath,
        intervalMs: readNumber(config.interval, 10, { min: 1, max: 86400 }) * 1000,
        output,
        clock: s.clock,
        autoStart: false, // started below, once `poller` is set for the status
      },
      {
        // transitions carry msg.raw like halo-in output 1
        messages: (out) => this.send([out.map((m) => (m.raw === undefined ? { topic: m.topic, payload: m.payload } : { topic: m.topic, payload: m.payload, raw: m.raw }))]),
        error: (err, changed, retryInMs) => {
          if (!changed) return;
          this.error(RED._('halo-poll.errors.poll', { error: err.message, seconds: Math.round(retryInMs / 1000) }), {
            topic: `${device}/error`,
            payload: { device, error: err.message, code: err.code, status: err.status },
          });
        },
        recovered: () => this.log(RED._('halo-poll.log.recovered', { device })),
        thresholdsError: (err) => this.warn(RED._('halo-poll.errors.thresholds', { error: err.message })),
        state: () => {
          if (!s.closed) status();
        },
      },
    );
    s.defer(() => poller.close());
    poller.start();
    status();

    this.on('input', (msg: NodeMessageInFlow, _send: Send, done: Done) => {
      const cmd = typeof msg.payload === 'string' ? msg.payload.trim().toLowerCase() : '';
      if (cmd === 'stop') poller.stop();
      else if (cmd === 'start') poller.start();
      else poller.pollNow();
      status();
      done();
    });
  }

  RED.nodes.registerType('halo-poll', HaloPoll);
};
