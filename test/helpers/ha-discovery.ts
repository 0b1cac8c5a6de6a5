/**
 * Home Assistant MQTT discovery payloads checked against what Home Assistant documents, for the
 * lib tests (test/lib/mqtt) and the node test (test/nodes/mqtt).
 */
import assert from 'node:assert/strict';
import type { Outgoing } from '../../lib/mqtt/site';

/**
 * The fields Home Assistant's MQTT integration documents for each component we publish
 * (binary_sensor, sensor, button: the options we may use and the ones each requires), and its
 * device classes. A discovery payload with a key outside these, or a required one missing, is
 * rejected by Home Assistant with a log line — so it fails here.
 */
const COMMON = ['name', 'unique_id', 'device', 'availability', 'availability_mode', 'availability_topic', 'payload_available', 'payload_not_available', 'qos', 'icon', 'json_attributes_topic', 'json_attributes_template', 'enabled_by_default', 'entity_category', 'encoding', 'default_entity_id'];
const HA_FIELDS: Record<string, { allowed: string[]; required: string[]; classes: string[] }> = {
  binary_sensor: {
    allowed: [...COMMON, 'state_topic', 'value_template', 'payload_on', 'payload_off', 'device_class', 'expire_after', 'force_update', 'off_delay'],
    required: ['state_topic'],
    classes: ['battery', 'battery_charging', 'carbon_monoxide', 'cold', 'connectivity', 'door', 'garage_door', 'gas', 'heat', 'light', 'lock', 'moisture', 'motion', 'moving', 'occupancy', 'opening', 'plug', 'power', 'presence', 'problem', 'running', 'safety', 'smoke', 'sound', 'tamper', 'update', 'vibration', 'window'],
  },
  sensor: {
    allowed: [...COMMON, 'state_topic', 'value_template', 'unit_of_measurement', 'device_class', 'state_class', 'options', 'expire_after', 'force_update', 'suggested_display_precision', 'last_reset_value_template'],
    required: ['state_topic'],
    classes: ['aqi', 'atmospheric_pressure', 'carbon_dioxide', 'carbon_monoxide', 'enum', 'humidity', 'illuminance', 'pm1', 'pm10', 'pm25', 'pressure', 'sound_pressure', 'temperature', 'volatile_organic_compounds', 'volatile_organic_compounds_parts', 'nitrogen_dioxide'],
  },
  button: { allowed: [...COMMON, 'command_topic', 'command_template', 'payload_press', 'device_class', 'retain'], required: ['command_topic'], classes: ['identify', 'restart', 'update'] },
};
const DEVICE_FIELDS = ['identifiers', 'connections', 'name', 'manufacturer', 'model', 'model_id', 'sw_version', 'hw_version', 'serial_number', 'suggested_area', 'via_device', 'configuration_url'];
/** Units Home Assistant accepts for each sensor device class we use. */
const UNITS: Record<string, string[]> = {
  temperature: ['°C', '°F', 'K'],
  humidity: ['%'],
  illuminance: ['lx'],
  carbon_dioxide: ['ppm'],
  carbon_monoxide: ['ppm'],
  pm1: ['µg/m³'],
  pm25: ['µg/m³'],
  pm10: ['µg/m³'],
  volatile_organic_compounds_parts: ['ppm', 'ppb'],
  atmospheric_pressure: ['cbar', 'bar', 'hPa', 'mmHg', 'inHg', 'kPa', 'mbar', 'Pa', 'psi'],
  sound_pressure: ['dB', 'dBA'],
  aqi: [],
  enum: [],
};

export function validateDiscovery(o: Outgoing): void {
  const m = /^homeassistant\/(binary_sensor|sensor|button)\/([a-zA-Z0-9_-]+)\/config$/.exec(o.topic);
  assert.ok(m, `discovery topic ${o.topic}`);
  assert.equal(o.retain, true, 'discovery configs are retained');
  const spec = HA_FIELDS[m[1]];
  const p = o.payload as Record<string, unknown>;
  for (const k of Object.keys(p)) assert.ok(spec.allowed.includes(k), `${m[1]} does not document "${k}"`);
  for (const k of spec.required) assert.equal(typeof p[k], 'string', `${m[1]} needs ${k}`);
  assert.equal(p.unique_id, m[2], 'unique_id matches the topic id');
  if (p.device_class !== undefined) assert.ok(spec.classes.includes(String(p.device_class)), `${m[1]} device_class ${String(p.device_class)}`);
  if (m[1] === 'sensor' && p.device_class !== undefined && p.unit_of_measurement !== undefined) {
    assert.ok(UNITS[String(p.device_class)].includes(String(p.unit_of_measurement)), `unit ${String(p.unit_of_measurement)} for ${String(p.device_class)}`);
  }
  if (p.device_class === 'enum') assert.ok(Array.isArray(p.options) && p.unit_of_measurement === undefined && p.state_class === undefined);
  const dev = p.device as Record<string, unknown>;
  for (const k of Object.keys(dev)) assert.ok(DEVICE_FIELDS.includes(k), `device.${k}`);
  assert.ok(Array.isArray(dev.identifiers) && dev.identifiers.length > 0);
  for (const a of p.availability as Array<Record<string, unknown>>) {
    for (const k of Object.keys(a)) assert.ok(['topic', 'payload_available', 'payload_not_available', 'value_template'].includes(k), `availability.${k}`);
    assert.equal(typeof a.topic, 'string');
  }
}

