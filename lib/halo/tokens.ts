/**
 * The HALO template tokens (docs/halo.md §3.1): device/site tokens, event-only tokens,
 * aggregate tokens, credential tokens and the parameterised `%SENSOR:<id>%` /
 * `%AMPX:…%` forms. One table drives both expansion (the simulator) and matching
 * (the receiver).
 */

/** Plain tokens, written `%NAME%` in a template. */
export const DEVICE_TOKENS = ['NAME', 'IP', 'MAC', 'DATE', 'TIME', 'ADDR', 'WING', 'FLOOR', 'ROOM', 'PRSCNT', 'LON', 'LAT', 'DESC', 'FWVER'] as const;
export const EVENT_TOKENS = ['EID', 'UID', 'SOURCE', 'OPERATOR', 'THR', 'VAL', 'SIM', 'BUTTON', 'RSSI', 'SIGSTRENG'] as const;
export const AGGREGATE_TOKENS = ['EVENTS', 'EVENTVALS', 'ACTIVE', 'ALLSENSORS', 'ALLSENSORS@', 'ALLSENSORSNL'] as const;
export const AMPX_TOKENS = ['AMPX:ALL', 'AMPX:DISCONNECTED', 'AMPX:ACTIVE'] as const;
export const CREDENTIAL_TOKENS = ['PSWD', 'USER'] as const;

/** Sensor ids usable in `%SENSOR:<id>%` and the `%ALLSENSORS*%` lists (docs/halo.md §3.1). */
export const SENSOR_IDS = [
  'C', 'F', 'RH', 'Lux', 'TVOC', 'CO2cal', 'CO2eq', 'VCO2eq', 'VTVOC', 'PM1', 'PM2.5', 'PM10', 'NH3', 'NO2', 'CO',
  'AccX', 'AccY', 'AccZ', 'Move', 'P-Hg', 'P-hPa', 'AQI', 'AQIsrc', 'NO2AQI', 'COAQI', 'PM10AQI', 'PM25AQI', 'INP',
  'panic', 'Motion', 'Noise', 'HGMic', 'LGMic', 'Aud1', 'Aud2', 'Aud3', 'Aud4', 'Gun', 'KW1', 'KW2', 'KW3', 'KW4',
  'KW5', 'KW6', 'KW7', 'KW8', 'HI', 'HIsrc', 'HIco2', 'HIhum', 'HIpm1', 'HIpm2.5', 'HIpm10', 'HItvoc', 'HIno2', 'PEOPLE',
] as const;

/** Every fixed-name token (without the `%`). `SENSOR:<id>` is recognised separately. */
export const KNOWN_TOKENS: ReadonlySet<string> = new Set<string>([
  ...DEVICE_TOKENS,
  ...EVENT_TOKENS,
  ...AGGREGATE_TOKENS,
  ...AMPX_TOKENS,
  ...CREDENTIAL_TOKENS,
]);

/** A sensor id in `%SENSOR:<id>%`: letters, digits, `.`, `-`, `_`. */
export const SENSOR_TOKEN_RE = /^SENSOR:[A-Za-z0-9._-]+$/;

/** Is `name` (the text between the two `%`) a token the HALO would replace? */
export function isToken(name: string): boolean {
  return KNOWN_TOKENS.has(name) || SENSOR_TOKEN_RE.test(name);
}

/**
 * Token values for expansion: token name (no `%`) → text. A token whose value is
 * `undefined` stays literal, as the HALO leaves `%UID%` when there is none.
 */
export type TokenValues = Readonly<Record<string, string | undefined>>;
