import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../../shared/errors';
import { describeIssues } from '../../../shared/schemas/issues';
import { TargetSchema, type RuleState, type Target } from './api-schemas';

/** The default bus every account has. */
export const DEFAULT_BUS = 'default';

const BusRecordSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  createdAtMs: z.number(),
  lastModifiedMs: z.number(),
});
/** An event bus as stored. */
export type BusRecord = z.infer<typeof BusRecordSchema>;

const RuleRecordSchema = z.object({
  name: z.string(),
  busName: z.string(),
  eventPattern: z.string().optional(),
  scheduleExpression: z.string().optional(),
  state: z.enum(['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS']),
  description: z.string().optional(),
  roleArn: z.string().optional(),
  createdAtMs: z.number(),
  targets: z.array(TargetSchema),
});
/** A rule and its targets as stored. */
export type RuleRecord = z.infer<typeof RuleRecordSchema>;

const StateFileSchema = z.object({
  version: z.literal(1),
  buses: z.array(BusRecordSchema),
  rules: z.array(RuleRecordSchema),
});
type StateFile = z.infer<typeof StateFileSchema>;

/** The file the bus keeps its buses, rules and targets in, under the data dir. */
export const STATE_FILE_NAME = 'eventbridge-state.json';

function ruleKey(busName: string, name: string): string {
  return `${busName}\u0000${name}`;
}

/**
 * Buses, rules and targets. In memory; with a data dir, every change is written through to a JSON
 * file (atomically: temp file then rename) so a restart keeps them.
 */
export class StateStore {
  private readonly buses = new Map<string, BusRecord>();
  private readonly rules = new Map<string, RuleRecord>();

  private constructor(private readonly file: string | undefined) {}

  /** Opens the store: loads the state file when `dataDir` is given and the file exists. */
  static open(dataDir: string | undefined, nowMs: number): StateStore {
    const file = dataDir === undefined ? undefined : path.join(dataDir, STATE_FILE_NAME);
    const store = new StateStore(file);
    if (file !== undefined && fs.existsSync(file)) {
      let raw: unknown;
      try {
        raw = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (err) {
        throw new ConfigError(`${file}: not valid JSON`, err);
      }
      const parsed = StateFileSchema.safeParse(raw);
      if (!parsed.success) throw new ConfigError(`${file}: ${describeIssues(parsed.error)}`, parsed.error);
      for (const bus of parsed.data.buses) store.buses.set(bus.name, bus);
      for (const rule of parsed.data.rules) store.rules.set(ruleKey(rule.busName, rule.name), rule);
    }
    if (!store.buses.has(DEFAULT_BUS)) {
      store.buses.set(DEFAULT_BUS, { name: DEFAULT_BUS, createdAtMs: nowMs, lastModifiedMs: nowMs });
      store.save();
    }
    return store;
  }

  bus(name: string): BusRecord | undefined {
    return this.buses.get(name);
  }

  /** All buses, by name. */
  listBuses(): BusRecord[] {
    return [...this.buses.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  putBus(bus: BusRecord): void {
    this.buses.set(bus.name, bus);
    this.save();
  }

  deleteBus(name: string): void {
    if (this.buses.delete(name)) this.save();
  }

  rule(busName: string, name: string): RuleRecord | undefined {
    return this.rules.get(ruleKey(busName, name));
  }

  /** The rules of one bus, by name. */
  rulesOf(busName: string): RuleRecord[] {
    return [...this.rules.values()]
      .filter((r) => r.busName === busName)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Every rule (for compiling patterns at start). */
  allRules(): RuleRecord[] {
    return [...this.rules.values()];
  }

  putRule(rule: RuleRecord): void {
    this.rules.set(ruleKey(rule.busName, rule.name), rule);
    this.save();
  }

  setRuleState(rule: RuleRecord, state: RuleState): RuleRecord {
    const updated = { ...rule, state };
    this.putRule(updated);
    return updated;
  }

  setTargets(rule: RuleRecord, targets: Target[]): RuleRecord {
    const updated = { ...rule, targets };
    this.putRule(updated);
    return updated;
  }

  deleteRule(busName: string, name: string): void {
    if (this.rules.delete(ruleKey(busName, name))) this.save();
  }

  private save(): void {
    if (this.file === undefined) return;
    const state: StateFile = { version: 1, buses: this.listBuses(), rules: [...this.rules.values()] };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
    fs.renameSync(tmp, this.file);
  }
}
