/**
 * Vigil's MQTT topic scheme (docs/mqtt.md), one site per Node-RED instance:
 *
 *   vigil/<site>/online                       retained `true`; the broker publishes the last will `false`
 *   vigil/<site>/halo/<device>/<event>        a HALO set/reset, QoS 1, not retained (halo-in's event payload)
 *   vigil/<site>/halo/<device>/state          retained: online, active events, latest event values and sensor readings
 *   vigil/<site>/alarm/<system>/status        retained: the camera alarm's status (the API's status object)
 *   vigil/<site>/alarm/<system>/command       commands in (Home Assistant buttons, a central flow): silence, test
 *
 * Names become topic segments through {@link segment}: MQTT wildcards, separators and control
 * characters are replaced, so a device called `Hall/2F` can never publish into another's topic.
 */
export const ROOT = 'vigil';

/** Longest topic segment kept (longer names are cut). */
export const MAX_SEGMENT = 64;

/** A name as one topic segment: no `/`, `+`, `#`, control characters or leading `$`; never empty. */
export function segment(name: unknown): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  const s = String(name ?? '').trim().replace(/[/+#\u0000-\u001f\u007f]/g, '_').replace(/^\$/, '_').slice(0, MAX_SEGMENT);
  return s === '' ? '_' : s;
}

/**
 * An event id as its topic segment: like {@link segment}, and an event called `state` becomes
 * `_state`, so it can never publish into the device's retained state topic.
 */
export function eventSegment(event: unknown): string {
  const s = segment(event);
  return s === 'state' ? '_state' : s;
}

export const topics = {
  online: (site: string): string => `${ROOT}/${segment(site)}/online`,
  haloEvent: (site: string, device: string, event: string): string => `${ROOT}/${segment(site)}/halo/${segment(device)}/${eventSegment(event)}`,
  haloState: (site: string, device: string): string => `${ROOT}/${segment(site)}/halo/${segment(device)}/state`,
  alarmStatus: (site: string, system: string): string => `${ROOT}/${segment(site)}/alarm/${segment(system)}/status`,
  alarmCommand: (site: string, system: string): string => `${ROOT}/${segment(site)}/alarm/${segment(system)}/command`,
};

export type ParsedTopic =
  | { kind: 'online'; site: string }
  | { kind: 'halo-event'; site: string; device: string; event: string }
  | { kind: 'halo-state'; site: string; device: string }
  | { kind: 'alarm-status'; site: string; system: string }
  | { kind: 'alarm-command'; site: string; system: string };

/** What a topic of the scheme is about; `undefined` for anything else. */
export function parseTopic(topic: unknown): ParsedTopic | undefined {
  if (typeof topic !== 'string' || topic.length > 4 * MAX_SEGMENT + 32) return undefined;
  const p = topic.split('/');
  if (p[0] !== ROOT || p.length < 3 || p.some((x) => x === '')) return undefined;
  const site = p[1];
  if (p.length === 3 && p[2] === 'online') return { kind: 'online', site };
  if (p.length === 5 && p[2] === 'halo') return p[4] === 'state' ? { kind: 'halo-state', site, device: p[3] } : { kind: 'halo-event', site, device: p[3], event: p[4] };
  if (p.length === 5 && p[2] === 'alarm' && p[4] === 'status') return { kind: 'alarm-status', site, system: p[3] };
  if (p.length === 5 && p[2] === 'alarm' && p[4] === 'command') return { kind: 'alarm-command', site, system: p[3] };
  return undefined;
}
