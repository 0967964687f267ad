/**
 * The channel catalogue: canonical sensor channel names with units. Unknown channels are kept
 * (DESIGN.md §3), the catalogue only gives known ones a unit and a description.
 */
export interface ChannelInfo {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

const catalogue = [
  { name: 'vibration_rms', unit: 'mm/s', description: 'vibration velocity RMS (ISO 10816/20816 severity)' },
  { name: 'accel1_rms', unit: 'g', description: 'accelerometer 1 RMS (pump bearing)' },
  { name: 'accel2_rms', unit: 'g', description: 'accelerometer 2 RMS (motor bearing)' },
  { name: 'temperature_motor', unit: '°C', description: 'motor body temperature' },
  { name: 'temperature_fluid', unit: '°C', description: 'pumped fluid temperature (thermocouple)' },
  { name: 'temperature_bearing', unit: '°C', description: 'bearing temperature' },
  { name: 'pressure', unit: 'bar', description: 'discharge pressure' },
  { name: 'pressure_suction', unit: 'bar', description: 'suction pressure' },
  { name: 'flow', unit: 'm³/h', description: 'volume flow rate' },
  { name: 'flow_rms', unit: 'l/min', description: 'volume flow rate RMS (SKAB testbed)' },
  { name: 'current', unit: 'A', description: 'motor current' },
  { name: 'voltage', unit: 'V', description: 'supply voltage' },
  { name: 'power', unit: 'kW', description: 'electrical power' },
  { name: 'speed', unit: 'rpm', description: 'shaft speed' },
] as const satisfies readonly ChannelInfo[];

export type KnownChannel = (typeof catalogue)[number]['name'];

/** All known channels, by name. */
export const CHANNELS: ReadonlyMap<string, ChannelInfo> = new Map(catalogue.map((c) => [c.name, c]));

/** How SKAB's eight CSV columns map onto the catalogue. */
export const SKAB_CHANNELS: Readonly<Record<string, KnownChannel>> = {
  Accelerometer1RMS: 'accel1_rms',
  Accelerometer2RMS: 'accel2_rms',
  Current: 'current',
  Pressure: 'pressure',
  Temperature: 'temperature_motor',
  Thermocouple: 'temperature_fluid',
  Voltage: 'voltage',
  'Volume Flow RateRMS': 'flow_rms',
};

/** The unit of a channel, or undefined for channels outside the catalogue. */
export function channelUnit(name: string): string | undefined {
  return CHANNELS.get(name)?.unit;
}
