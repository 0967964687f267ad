import type { PumpRecord } from '../../shared/schemas/pump';
import type { Sample } from '../../shared/schemas/telemetry';

/** Kinds of fault the simulator can develop in a pump. */
export const FAULT_KINDS = ['bearing', 'cavitation', 'pressure-drop', 'overheating'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultPlan {
  readonly pumpId: string;
  readonly kind: FaultKind;
  /** Seconds after the simulation start when the fault begins. */
  readonly startS: number;
  /** Seconds over which it develops to full strength. */
  readonly rampS: number;
}

/** Parses `PUMP:KIND[@START_S[+RAMP_S]]`, e.g. `P-0003:bearing@30+20`. */
export function parseFault(spec: string, defaults = { startS: 30, rampS: 20 }): FaultPlan {
  const m = /^([^:]+):([a-z-]+)(?:@(\d+(?:\.\d+)?)(?:\+(\d+(?:\.\d+)?))?)?$/.exec(spec);
  if (!m || !(FAULT_KINDS as readonly string[]).includes(m[2]!)) {
    throw new Error(`bad fault ${JSON.stringify(spec)}: use PUMP:KIND[@START_S[+RAMP_S]], KIND one of ${FAULT_KINDS.join(', ')}`);
  }
  return { pumpId: m[1]!, kind: m[2] as FaultKind, startS: m[3] ? Number(m[3]) : defaults.startS, rampS: m[4] ? Number(m[4]) : defaults.rampS };
}

/** A small, fast, seedable PRNG (mulberry32), so simulations repeat exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from uniform draws (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Nominal operating point of a simulated pump. */
interface Nominal {
  vibration: number;
  motorTemp: number;
  bearingTemp: number;
  pressure: number;
  suction: number;
  flow: number;
  current: number;
  voltage: number;
  speed: number;
}

/** Healthy operating points per pump type (medium centrifugal and booster pumps). */
export const PUMP_TYPES: Readonly<Record<string, Nominal>> = {
  centrifugal: { vibration: 1.8, motorTemp: 55, bearingTemp: 48, pressure: 6, suction: 1.2, flow: 42, current: 18.5, voltage: 400, speed: 2950 },
  booster: { vibration: 1.2, motorTemp: 48, bearingTemp: 42, pressure: 9, suction: 3, flow: 18, current: 9.5, voltage: 400, speed: 2900 },
};

/** ISO 10816-3 style zone boundaries (mm/s RMS) used for the demo pump types. */
export const DEMO_ZONES = { channel: 'vibration_rms', ab: 1.4, bc: 2.8, cd: 7.1 } as const;

interface SimPump {
  readonly record: PumpRecord;
  readonly nominal: Nominal;
  readonly phase: number;
  readonly faults: FaultPlan[];
  seq: number;
  temp: number;
}

export interface FleetOptions {
  readonly pumps: number;
  readonly seed?: number;
  readonly tenantId?: string;
  /** Pump types to cycle through. */
  readonly types?: readonly string[];
  readonly faults?: readonly FaultPlan[];
  readonly sampleRateHz?: number;
  readonly idPrefix?: string;
}

/**
 * A fleet of simulated pumps: realistic channels with sensor noise, a slowly varying load that
 * moves flow, pressure and current together, slow thermal response, and optional faults that
 * develop over time (bearing wear, cavitation, pressure drop, overheating).
 */
export class FleetSimulator {
  readonly pumps: readonly PumpRecord[];
  private readonly sims: SimPump[];
  private readonly random: () => number;
  readonly sampleRateHz: number;

  constructor(options: FleetOptions, enrolledAt = 0) {
    this.random = seededRandom(options.seed ?? 42);
    this.sampleRateHz = options.sampleRateHz ?? 1;
    const types = options.types ?? ['centrifugal'];
    const prefix = options.idPrefix ?? 'P-';
    this.sims = Array.from({ length: options.pumps }, (_, i) => {
      const pumpId = `${prefix}${String(i + 1).padStart(4, '0')}`;
      const pumpType = types[i % types.length]!;
      const base = PUMP_TYPES[pumpType] ?? PUMP_TYPES.centrifugal!;
      // Each pump sits a little off its type's nominal point (installation, wear).
      const jitter = (v: number, rel: number) => v * (1 + rel * gaussian(this.random));
      const nominal: Nominal = {
        vibration: jitter(base.vibration, 0.05),
        motorTemp: jitter(base.motorTemp, 0.02),
        bearingTemp: jitter(base.bearingTemp, 0.02),
        pressure: jitter(base.pressure, 0.02),
        suction: jitter(base.suction, 0.02),
        flow: jitter(base.flow, 0.02),
        current: jitter(base.current, 0.02),
        voltage: base.voltage,
        speed: base.speed,
      };
      return {
        record: {
          pumpId,
          tenantId: options.tenantId ?? 'acme-water',
          siteId: `site-${['north', 'south', 'east'][i % 3]}`,
          pumpType,
          sampleRateHz: this.sampleRateHz,
          enrolledAt,
        },
        nominal,
        phase: this.random() * 2 * Math.PI,
        faults: (options.faults ?? []).filter((f) => f.pumpId === pumpId),
        seq: 0,
        temp: 0,
      };
    });
    this.pumps = this.sims.map((s) => s.record);
  }

  /** One sample of every pump at `tMs` (epoch ms), `elapsedS` after the simulation start. */
  sampleAll(tMs: number, elapsedS: number): { pumpId: string; sample: Sample }[] {
    return this.sims.map((p) => ({ pumpId: p.record.pumpId, sample: this.sample(p, tMs, elapsedS) }));
  }

  private strength(p: SimPump, kind: FaultKind, elapsedS: number): number {
    let s = 0;
    for (const f of p.faults) {
      if (f.kind !== kind || elapsedS < f.startS) continue;
      s = Math.max(s, f.rampS <= 0 ? 1 : Math.min(1, (elapsedS - f.startS) / f.rampS));
    }
    return s;
  }

  private sample(p: SimPump, tMs: number, elapsedS: number): Sample {
    const n = p.nominal;
    const g = () => gaussian(this.random);
    // Load varies slowly (a 5-minute cycle, ±4 %), moving flow, pressure and current together.
    const load = 1 + 0.04 * Math.sin((2 * Math.PI * elapsedS) / 300 + p.phase);
    const bearing = this.strength(p, 'bearing', elapsedS);
    const cavitation = this.strength(p, 'cavitation', elapsedS);
    const leak = this.strength(p, 'pressure-drop', elapsedS);
    const heat = this.strength(p, 'overheating', elapsedS);
    // Thermal state follows the target with a lag (first order, ~30 s).
    const targetTemp = 25 * heat + 8 * bearing;
    p.temp += (targetTemp - p.temp) * Math.min(1, 1 / (30 * this.sampleRateHz));
    const spike = cavitation > 0 && this.random() < 0.2 * cavitation ? 2 + 3 * this.random() : 1;
    const vibration = n.vibration * (1 + 3.2 * bearing + 1.2 * cavitation) * spike * (1 + 0.04 * g());
    const flow = n.flow * load * (1 - 0.2 * cavitation + 0.1 * leak) * (1 + 0.01 * g());
    const metrics: Record<string, number> = {
      vibration_rms: vibration,
      temperature_motor: n.motorTemp + p.temp + 0.15 * g(),
      temperature_bearing: n.bearingTemp + 1.8 * p.temp * (bearing > 0 ? 1 : 0.3) + 0.15 * g(),
      pressure: n.pressure * load * load * (1 - 0.3 * leak - 0.1 * cavitation) * (1 + 0.008 * g()),
      pressure_suction: n.suction * (1 - 0.5 * cavitation) * (1 + 0.01 * g()),
      flow,
      current: n.current * (0.7 + 0.3 * load) * (1 + 0.08 * leak + 0.1 * heat) * (1 + 0.008 * g()),
      voltage: n.voltage + 1.5 * g(),
      speed: n.speed - 5 * (load - 1) * 100 + 2 * g(),
    };
    for (const k of Object.keys(metrics)) metrics[k] = Math.round(metrics[k]! * 1000) / 1000;
    p.seq += 1;
    return { ts: tMs, seq: p.seq, metrics };
  }
}

/** A batch telemetry record of one pump, as devices send it. */
export interface BatchRecord {
  readonly pumpId: string;
  readonly samples: Sample[];
}

/**
 * Samples the fleet from `fromMs` for `seconds`, grouped per pump into batch records of
 * `batchSeconds` each (devices send several seconds at once), in time order.
 */
export function simulateBatches(sim: FleetSimulator, fromMs: number, seconds: number, batchSeconds: number, startElapsedS = 0): BatchRecord[] {
  const out: BatchRecord[] = [];
  const stepMs = 1000 / sim.sampleRateHz;
  const perBatch = Math.max(1, Math.round(batchSeconds * sim.sampleRateHz));
  let pending = new Map<string, Sample[]>();
  const total = Math.round(seconds * sim.sampleRateHz);
  for (let i = 0; i < total; i++) {
    for (const { pumpId, sample } of sim.sampleAll(fromMs + i * stepMs, startElapsedS + i / sim.sampleRateHz)) {
      const list = pending.get(pumpId) ?? [];
      list.push(sample);
      pending.set(pumpId, list);
    }
    if ((i + 1) % perBatch === 0 || i === total - 1) {
      for (const [pumpId, samples] of pending) out.push({ pumpId, samples });
      pending = new Map();
    }
  }
  return out;
}
