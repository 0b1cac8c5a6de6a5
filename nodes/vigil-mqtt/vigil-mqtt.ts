/**
 * vigil-mqtt: joins Vigil sites through an MQTT broker (docs/mqtt.md). No MQTT client of its
 * own: it formats for, and reads from, Node-RED's core `mqtt out` / `mqtt in` nodes.
 * - role `site`: halo-in / halo-poll events and health and vigil-alarm status in → messages
 *   with the scheme's topic, QoS and retain flag out (1), plus Home Assistant discovery configs;
 *   commands arriving on `vigil/<site>/alarm/<system>/command` → vigil-alarm commands (2).
 * - role `central`: everything from `vigil/+/#` in → one overview (1, at most once a second)
 *   and each HALO event as it arrives (2).
 * Thin adapter over lib/mqtt (site.ts, central.ts).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { RateLimitedWarner } from '../../lib/common/warn';
import { Central } from '../../lib/mqtt/central';
import { SitePublisher, type Outgoing } from '../../lib/mqtt/site';
import { readNumber, scope, type Done, type Send } from '../kit';

interface MqttDef extends NodeDef {
  role?: string;
  site?: string;
  system?: string;
  discovery?: boolean;
  discoveryPrefix?: string;
  silenceS?: number | string;
  refreshS?: number | string;
}

/** The overview goes out at most this often (trailing edge: the last change is never lost). */
const OVERVIEW_EVERY_MS = 1000;

export = function (RED: NodeAPI): void {
  function VigilMqttNode(this: Node, config: MqttDef): void {
    RED.nodes.createNode(this, config);
    const s = scope(RED, this);
    const warner = new RateLimitedWarner((line) => this.warn(line), { clock: s.clock });
    s.defer(() => warner.dispose());
    const site = (config.site ?? '').trim() || 'site';

    if (config.role === 'central') {
      const central = new Central();
      let [pending, lastSent, timer] = [false, 0, false];
      const flush = (send: Send): void => {
        [pending, timer, lastSent] = [false, false, s.clock.now()];
        const o = central.snapshot();
        send([{ topic: 'overview', payload: o } as NodeMessage, null]);
        const off = o.offline.sites.length;
        this.status({ fill: off ? 'yellow' : 'green', shape: 'dot', text: RED._('vigil-mqtt.status.central', { sites: Object.keys(o.sites).length, offline: off, devices: Object.keys(o.devices).length }) });
      };
      this.on('input', (msg, send: Send, done: Done) => {
        const r = central.ingest(msg.topic, msg.payload, s.clock.now());
        if (r.problem) warner.warn('central', r.problem);
        if (r.event) send([null, { topic: `${r.event.site}/${r.event.device}/${r.event.event}`, payload: { ...r.event.payload, site: r.event.site } } as NodeMessage]);
        if (r.changed) {
          pending = true;
          const wait = lastSent + OVERVIEW_EVERY_MS - s.clock.now();
          if (wait <= 0) flush(send);
          else if (!timer) {
            timer = true;
            s.after(wait, () => pending && flush((m) => this.send(m)));
          }
        }
        done();
      });
      this.status({ fill: 'grey', shape: 'ring', text: 'vigil-mqtt.status.waiting' });
      return;
    }

    const publisher = new SitePublisher({
      site,
      system: (config.system ?? '').trim() || 'alarm',
      discovery: config.discovery !== false,
      discoveryPrefix: (config.discoveryPrefix ?? '').trim().replace(/\/+$/, '') || 'homeassistant',
      silenceS: readNumber(config.silenceS, 3600, { min: 1, max: 31_622_400 }),
    });
    let published = 0;
    const out = (list: Outgoing[], send: Send): void => {
      if (list.length === 0) return;
      published += list.length;
      send([list.map((o) => ({ topic: o.topic, payload: o.payload, qos: o.qos, retain: o.retain }) as NodeMessage), null]);
      this.status({ fill: 'green', shape: 'dot', text: RED._('vigil-mqtt.status.site', { site, count: published }) });
    };
    // Retained topics again every refreshS: what `mqtt out` dropped while the broker was away comes back.
    const refreshS = readNumber(config.refreshS, 60, { min: 0, max: 86_400 });
    if (refreshS > 0) s.every(refreshS * 1000, () => out(publisher.retained(), (m) => this.send(m)));
    this.on('input', (msg, send: Send, done: Done) => {
      const r = publisher.ingest(msg as { topic?: unknown; payload?: unknown; system?: unknown }, s.clock.now());
      if (r.problem) warner.warn(r.kind ?? 'input', r.problem);
      if (r.command) send([null, { topic: 'command', payload: r.command } as NodeMessage]);
      out(r.out, send);
      done();
    });
    this.status({ fill: 'grey', shape: 'ring', text: RED._('vigil-mqtt.status.ready', { site }) });
  }

  RED.nodes.registerType('vigil-mqtt', VigilMqttNode);
};
