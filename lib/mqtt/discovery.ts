/**
 * Home Assistant MQTT discovery (docs/mqtt.md §3): the retained config messages that make HALO
 * devices and camera alarms appear in Home Assistant by themselves. Each entity's config is
 * published once to `<prefix>/<component>/<object id>/config`; its state comes from Vigil's own
 * retained topics (lib/mqtt/topics.ts), and its availability from the site's birth/last-will
 * topic — and, for a HALO, from the device's own `online` in its state.
 */
import { createHash } from 'node:crypto';
import { topics } from './topics';

export type Component = 'binary_sensor' | 'sensor' | 'button';

export interface DiscoveryMessage {
  topic: string;
  payload: Record<string, unknown>;
  qos: 1;
  retain: true;
}

/** An id Home Assistant accepts (`[a-z0-9_]`), unique per raw name (a short hash keeps `Hall-2F` and `Hall_2F` apart). */
export function objectId(...parts: string[]): string {
  const slug = parts.map((p) => p.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'x').join('_').slice(0, 80);
  const hash = createHash('sha1').update(parts.join('\u0000')).digest('hex').slice(0, 6);
  return `vigil_${slug}_${hash}`;
}

/** A name that can sit inside a quoted Jinja string in a value_template (no quotes, backslashes or braces). */
export function templateSafe(name: string): boolean {
  return name.length > 0 && name.length <= 64 && !/['"\\{}%]/.test(name);
}

/** HALO event → binary_sensor device class (Home Assistant's list), where one fits. */
const EVENT_CLASS: Record<string, string> = {
  vape: 'smoke',
  thc: 'smoke',
  masking: 'smoke',
  smoking: 'smoke',
  gunshot: 'sound',
  aggression: 'sound',
  sound: 'sound',
  tamper: 'tamper',
  help: 'safety',
  panic: 'safety',
  motion: 'motion',
  light: 'light',
  co: 'carbon_monoxide',
  temp_c: 'heat',
  temp_c_low: 'cold',
  humidity: 'moisture',
  health_index: 'problem',
  aqi: 'problem',
  'pm2.5': 'problem',
  pm1: 'problem',
  pm10: 'problem',
  tvoc: 'problem',
  co2cal: 'problem',
  no2: 'problem',
  nh3: 'problem',
};

/** HALO sensor id → unit and (where Home Assistant's unit rules allow it) sensor device class. */
const SENSOR_UNITS: Record<string, { unit?: string; deviceClass?: string }> = {
  C: { unit: '°C', deviceClass: 'temperature' },
  F: { unit: '°F', deviceClass: 'temperature' },
  RH: { unit: '%', deviceClass: 'humidity' },
  Lux: { unit: 'lx', deviceClass: 'illuminance' },
  CO2cal: { unit: 'ppm', deviceClass: 'carbon_dioxide' },
  CO2eq: { unit: 'ppm', deviceClass: 'carbon_dioxide' },
  VCO2eq: { unit: 'ppm', deviceClass: 'carbon_dioxide' },
  PM1: { unit: 'µg/m³', deviceClass: 'pm1' },
  'PM2.5': { unit: 'µg/m³', deviceClass: 'pm25' },
  PM10: { unit: 'µg/m³', deviceClass: 'pm10' },
  TVOC: { unit: 'ppb', deviceClass: 'volatile_organic_compounds_parts' },
  CO: { unit: 'ppm', deviceClass: 'carbon_monoxide' },
  NO2: { unit: 'ppb' },
  NH3: { unit: 'ppm' },
  'P-hPa': { unit: 'hPa', deviceClass: 'atmospheric_pressure' },
  'P-Hg': { unit: 'inHg', deviceClass: 'atmospheric_pressure' },
  Noise: { unit: 'dB', deviceClass: 'sound_pressure' },
  AQI: { deviceClass: 'aqi' },
};

function message(prefix: string, component: Component, id: string, payload: Record<string, unknown>): DiscoveryMessage {
  return { topic: `${prefix}/${component}/${id}/config`, payload: { ...payload, unique_id: id }, qos: 1, retain: true };
}

function siteAvailability(site: string): Record<string, string> {
  return { topic: topics.online(site), payload_available: 'true', payload_not_available: 'false' };
}

function haloDevice(site: string, device: string): Record<string, unknown> {
  return { identifiers: [objectId(site, 'halo', device)], name: device, manufacturer: 'IPVideo', model: 'HALO Smart Sensor', suggested_area: site };
}

function haloAvailability(site: string, device: string): Record<string, unknown> {
  return {
    availability: [
      siteAvailability(site),
      { topic: topics.haloState(site, device), value_template: "{{ 'true' if value_json.online else 'false' }}", payload_available: 'true', payload_not_available: 'false' },
    ],
    availability_mode: 'all',
  };
}

/** A binary_sensor for one HALO event: on while the event is active. */
export function haloEventConfig(prefix: string, site: string, device: string, event: string): DiscoveryMessage {
  const id = objectId(site, 'halo', device, 'event', event);
  const cls = EVENT_CLASS[event.toLowerCase()];
  return message(prefix, 'binary_sensor', id, {
    name: event,
    state_topic: topics.haloState(site, device),
    value_template: `{{ 'ON' if '${event}' in value_json.active else 'OFF' }}`,
    payload_on: 'ON',
    payload_off: 'OFF',
    ...(cls ? { device_class: cls } : {}),
    ...haloAvailability(site, device),
    device: haloDevice(site, device),
    qos: 1,
  });
}

/** A sensor for one HALO reading (from heartbeats' sensor values). */
export function haloSensorConfig(prefix: string, site: string, device: string, sensor: string): DiscoveryMessage {
  const id = objectId(site, 'halo', device, 'sensor', sensor);
  const u = SENSOR_UNITS[sensor] ?? {};
  return message(prefix, 'sensor', id, {
    name: sensor,
    state_topic: topics.haloState(site, device),
    value_template: `{{ value_json.sensors['${sensor}'] }}`,
    state_class: 'measurement',
    ...(u.unit ? { unit_of_measurement: u.unit } : {}),
    ...(u.deviceClass ? { device_class: u.deviceClass } : {}),
    ...haloAvailability(site, device),
    device: haloDevice(site, device),
    qos: 1,
  });
}

/** A camera alarm: its state as an enum sensor, and silence/test buttons that publish commands. */
export function alarmConfigs(prefix: string, site: string, system: string, silenceS: number): DiscoveryMessage[] {
  const device = { identifiers: [objectId(site, 'alarm', system)], name: `${system} (${site})`, manufacturer: 'Vigil', model: 'Camera alarm', suggested_area: site };
  const availability = [siteAvailability(site)];
  const command = topics.alarmCommand(site, system);
  return [
    message(prefix, 'sensor', objectId(site, 'alarm', system, 'state'), {
      name: 'Alarm state',
      state_topic: topics.alarmStatus(site, system),
      value_template: '{{ value_json.state }}',
      json_attributes_topic: topics.alarmStatus(site, system),
      device_class: 'enum',
      options: ['on', 'off', 'alarm', 'silenced'],
      availability,
      device,
      qos: 1,
    }),
    message(prefix, 'button', objectId(site, 'alarm', system, 'silence'), {
      name: 'Silence',
      command_topic: command,
      payload_press: JSON.stringify({ command: 'silence', data: { silenceFor: silenceS } }),
      availability,
      device,
      qos: 1,
    }),
    message(prefix, 'button', objectId(site, 'alarm', system, 'test'), {
      name: 'Test alerters',
      command_topic: command,
      payload_press: JSON.stringify({ command: 'test', data: { excluded: [] } }),
      availability,
      device,
      qos: 1,
    }),
  ];
}
