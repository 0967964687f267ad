import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Clock } from '../../../shared/clock';
import { compileEventPattern, InvalidEventPatternError, prepareEvent, type CompiledEventPattern } from '../../../shared/event-pattern';
import type { Logger } from '../../../shared/logging';
import { formatPath } from '../../../shared/schemas/issues';
import { EventBridgeApiError, validationError } from './api-errors';
import * as api from './api-schemas';
import type { Dispatcher } from './delivery';
import { buildEnvelope } from './envelope';
import { DEFAULT_BUS, type BusRecord, type RuleRecord, type StateStore } from './state-store';
import { checkTarget, targetPayload } from './targets';

/**
 * A PutEvents fault for the next `calls` calls: `throttle` fails the whole call with
 * ThrottlingException; `failEntries` fails every `every`-th entry (from the first) with
 * `errorCode` and delivers the rest, as EventBridge does on a partial failure.
 */
export type PutEventsFault =
  | { kind: 'throttle'; calls: number }
  | { kind: 'failEntries'; calls: number; every: number; errorCode: 'InternalFailure' | 'ThrottlingException' | 'MalformedDetail' };

/** AWS's limit on the summed entry sizes of one PutEvents call. */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;
/** AWS's limit on targets per rule. */
export const MAX_TARGETS_PER_RULE = 5;
const DEFAULT_PAGE = 100;
const MANDATORY_TEST_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'] as const;

type JsonObject = Record<string, unknown>;

/** Parses a request body with a schema; a failure is a ValidationException naming the members. */
function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const details = issues.map((i) => `Value at '${formatPath(i.path)}' failed to satisfy constraint: ${i.message}`).join('; ');
  throw validationError(`${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${details}`);
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The PutEvents entry size as AWS computes it. */
export function entrySize(entry: api.PutEventsEntry): number {
  const bytes = (s: string | undefined): number => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  let size = entry.Time !== undefined ? 14 : 0;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  for (const r of entry.Resources ?? []) size += bytes(r);
  return size;
}

function toEpochMs(time: number | string): number | undefined {
  const ms = typeof time === 'number' ? time * 1000 : Date.parse(time);
  return Number.isFinite(ms) ? ms : undefined;
}

function encodeToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

function decodeToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (isJsonObject(parsed) && typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through
  }
  throw validationError('The NextToken is invalid.');
}

/** One page of name-sorted items after the token's name. */
function page<T>(items: readonly T[], nameOf: (t: T) => string, token: string | undefined, limit: number | undefined): { items: T[]; next?: string } {
  const after = decodeToken(token);
  const rest = after === undefined ? [...items] : items.filter((i) => nameOf(i) > after);
  const size = limit ?? DEFAULT_PAGE;
  const chosen = rest.slice(0, size);
  const last = chosen[chosen.length - 1];
  return rest.length > size && last !== undefined ? { items: chosen, next: encodeToken(nameOf(last)) } : { items: chosen };
}

function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** Identity and dependencies of the {@link EventBridgeService}. */
export interface EventBridgeServiceOptions {
  readonly region: string;
  readonly accountId: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * The EventBridge operations on the bus state: each takes the decoded JSON request body and
 * returns the JSON response body, or throws an {@link EventBridgeApiError}.
 */
export class EventBridgeService {
  private readonly patterns = new Map<RuleRecord, CompiledEventPattern>();

  constructor(
    private readonly store: StateStore,
    private readonly dispatcher: Dispatcher,
    private readonly opts: EventBridgeServiceOptions,
  ) {
    for (const rule of store.allRules()) this.compiled(rule);
  }

  /** The operations by `X-Amz-Target` name (without the `AWSEvents.` prefix). */
  readonly operations: Readonly<Record<string, (body: unknown) => JsonObject>> = {
    PutEvents: (b) => this.putEvents(b),
    PutRule: (b) => this.putRule(b),
    DeleteRule: (b) => this.deleteRule(b),
    DescribeRule: (b) => this.describeRule(b),
    ListRules: (b) => this.listRules(b),
    EnableRule: (b) => this.setRuleState(b, 'ENABLED'),
    DisableRule: (b) => this.setRuleState(b, 'DISABLED'),
    PutTargets: (b) => this.putTargets(b),
    RemoveTargets: (b) => this.removeTargets(b),
    ListTargetsByRule: (b) => this.listTargetsByRule(b),
    TestEventPattern: (b) => this.testEventPattern(b),
    CreateEventBus: (b) => this.createEventBus(b),
    DescribeEventBus: (b) => this.describeEventBus(b),
    ListEventBuses: (b) => this.listEventBuses(b),
    DeleteEventBus: (b) => this.deleteEventBus(b),
  };

  // ---- names and ARNs ----

  private busArn(name: string): string {
    return `arn:aws:events:${this.opts.region}:${this.opts.accountId}:event-bus/${name}`;
  }

  private ruleArn(rule: { busName: string; name: string }): string {
    const path = rule.busName === DEFAULT_BUS ? rule.name : `${rule.busName}/${rule.name}`;
    return `arn:aws:events:${this.opts.region}:${this.opts.accountId}:rule/${path}`;
  }

  /** A bus name from a name or an ARN (default: the default bus). */
  private busName(nameOrArn: string | undefined): string {
    if (nameOrArn === undefined) return DEFAULT_BUS;
    const marker = ':event-bus/';
    const at = nameOrArn.indexOf(marker);
    return nameOrArn.startsWith('arn:') && at >= 0 ? nameOrArn.slice(at + marker.length) : nameOrArn;
  }

  private requireBus(nameOrArn: string | undefined): BusRecord {
    const name = this.busName(nameOrArn);
    const bus = this.store.bus(name);
    if (!bus) throw new EventBridgeApiError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return bus;
  }

  private requireRule(name: string, busNameOrArn: string | undefined): RuleRecord {
    const bus = this.requireBus(busNameOrArn);
    const rule = this.store.rule(bus.name, name);
    if (!rule) throw new EventBridgeApiError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus.name}.`);
    return rule;
  }

  private compiled(rule: RuleRecord): CompiledEventPattern | undefined {
    if (rule.eventPattern === undefined) return undefined;
    let compiled = this.patterns.get(rule);
    if (!compiled) {
      compiled = compileEventPattern(rule.eventPattern);
      this.patterns.set(rule, compiled);
    }
    return compiled;
  }

  private replaceRule(old: RuleRecord | undefined, updated: RuleRecord): void {
    const compiled = old && old.eventPattern === updated.eventPattern ? this.patterns.get(old) : undefined;
    if (old) this.patterns.delete(old);
    if (compiled) this.patterns.set(updated, compiled);
  }

  // ---- events ----

  /** Faults to inject into the next PutEvents calls (tests of publishers' retry handling). */
  private readonly putEventsFaults: PutEventsFault[] = [];

  /** Queues a PutEvents fault; see {@link PutEventsFault}. */
  injectPutEventsFault(fault: PutEventsFault): void {
    this.putEventsFaults.push({ ...fault });
  }

  clearPutEventsFaults(): void {
    this.putEventsFaults.length = 0;
  }

  private putEvents(body: unknown): JsonObject {
    const fault = this.putEventsFaults[0];
    if (fault) {
      fault.calls -= 1;
      if (fault.calls <= 0) this.putEventsFaults.shift();
      if (fault.kind === 'throttle') throw new EventBridgeApiError('ThrottlingException', 'Rate exceeded (injected).');
    }
    const req = parseRequest(api.PutEventsRequestSchema, body);
    const total = req.Entries.reduce((n, e) => n + entrySize(e), 0);
    if (total > PUT_EVENTS_MAX_BYTES) {
      throw validationError(`Total size of the entries in the request is over the limit (${total} bytes > ${PUT_EVENTS_MAX_BYTES}).`);
    }
    const nowMs = this.opts.clock.now();
    const entries = req.Entries.map((entry, i) =>
      fault?.kind === 'failEntries' && i % fault.every === 0
        ? { ErrorCode: fault.errorCode, ErrorMessage: 'injected entry failure' }
        : this.putEvent(entry, nowMs),
    );
    const failed = entries.filter((e) => 'ErrorCode' in e).length;
    return { FailedEntryCount: failed, Entries: entries };
  }

  private putEvent(entry: api.PutEventsEntry, nowMs: number): JsonObject {
    const { Source: source, DetailType: detailType, Detail: detailText } = entry;
    if (!source || !detailType || detailText === undefined) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameters Source, DetailType and Detail are required.' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(detailText);
    } catch {
      detail = undefined;
    }
    if (!isJsonObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    const timeMs = entry.Time === undefined ? nowMs : toEpochMs(entry.Time);
    if (timeMs === undefined) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid.' };
    const busName = this.busName(entry.EventBusName);
    const bus = this.store.bus(busName);
    // AWS accepts and drops events for a bus that does not exist; locally that silent loss would
    // hide a misconfiguration, so the entry fails instead.
    if (!bus) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };

    const event = buildEnvelope({
      id: randomUUID(),
      detailType,
      source,
      account: this.opts.accountId,
      timeMs,
      region: this.opts.region,
      resources: entry.Resources ?? [],
      detail,
    });
    const prepared = prepareEvent(event);
    let matched = 0;
    for (const rule of this.store.rulesOf(bus.name)) {
      if (rule.state === 'DISABLED') continue;
      const pattern = this.compiled(rule);
      if (!pattern || !pattern.matches(prepared)) continue;
      matched++;
      const ruleArn = this.ruleArn(rule);
      for (const target of rule.targets) {
        this.dispatcher.enqueue({ ruleArn, ruleName: rule.name, busName: bus.name, target, event, payload: targetPayload(target, event), acceptedAtMs: nowMs });
      }
    }
    this.opts.logger.debug({ eventId: event.id, bus: bus.name, source, detailType, matchedRules: matched }, 'eventbridge event accepted');
    return { EventId: event.id };
  }

  private testEventPattern(body: unknown): JsonObject {
    const req = parseRequest(api.TestEventPatternRequestSchema, body);
    const pattern = this.compilePattern(req.EventPattern);
    let event: unknown;
    try {
      event = JSON.parse(req.Event);
    } catch {
      throw validationError('Parameter Event is not valid.');
    }
    if (!isJsonObject(event)) throw validationError('Parameter Event is not valid.');
    const missing = MANDATORY_TEST_EVENT_FIELDS.filter((f) => !(f in event));
    if (missing.length > 0) throw validationError(`Parameter Event is not valid. Reason: Provided Event is missing required field ${missing.join(', ')}.`);
    return { Result: pattern.matches(event) };
  }

  private compilePattern(text: string): CompiledEventPattern {
    try {
      return compileEventPattern(text);
    } catch (err) {
      if (err instanceof InvalidEventPatternError) {
        throw new EventBridgeApiError('InvalidEventPatternException', err.message, { cause: err });
      }
      throw err;
    }
  }

  // ---- rules ----

  private putRule(body: unknown): JsonObject {
    const req = parseRequest(api.PutRuleRequestSchema, body);
    if (req.EventPattern === undefined && req.ScheduleExpression === undefined) {
      throw validationError('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    }
    const bus = this.requireBus(req.EventBusName);
    if (req.ScheduleExpression !== undefined && bus.name !== DEFAULT_BUS) {
      throw validationError('ScheduleExpression is supported only on the default event bus.');
    }
    if (req.ScheduleExpression !== undefined && !/^(rate|cron)\(.+\)$/.test(req.ScheduleExpression)) {
      throw validationError('Parameter ScheduleExpression is not valid.');
    }
    const compiled = req.EventPattern === undefined ? undefined : this.compilePattern(req.EventPattern);
    const existing = this.store.rule(bus.name, req.Name);
    const rule: RuleRecord = {
      name: req.Name,
      busName: bus.name,
      eventPattern: req.EventPattern,
      scheduleExpression: req.ScheduleExpression,
      state: req.State ?? existing?.state ?? 'ENABLED',
      description: req.Description,
      roleArn: req.RoleArn,
      createdAtMs: existing?.createdAtMs ?? this.opts.clock.now(),
      targets: existing?.targets ?? [],
    };
    this.store.putRule(rule);
    this.replaceRule(existing, rule);
    if (compiled) this.patterns.set(rule, compiled);
    if (rule.scheduleExpression !== undefined) {
      this.opts.logger.warn({ rule: rule.name, schedule: rule.scheduleExpression }, 'eventbridge schedule expressions are stored but never fire locally');
    }
    this.opts.logger.info({ rule: rule.name, bus: bus.name, state: rule.state, created: existing === undefined }, 'eventbridge rule put');
    return { RuleArn: this.ruleArn(rule) };
  }

  private deleteRule(body: unknown): JsonObject {
    const req = parseRequest(api.DeleteRuleRequestSchema, body);
    const bus = this.requireBus(req.EventBusName);
    const rule = this.store.rule(bus.name, req.Name);
    if (!rule) return {};
    if (rule.targets.length > 0) throw validationError("Rule can't be deleted since it has targets.");
    this.store.deleteRule(bus.name, rule.name);
    this.patterns.delete(rule);
    this.opts.logger.info({ rule: rule.name, bus: bus.name }, 'eventbridge rule deleted');
    return {};
  }

  private ruleView(rule: RuleRecord): JsonObject {
    return {
      Name: rule.name,
      Arn: this.ruleArn(rule),
      EventPattern: rule.eventPattern,
      ScheduleExpression: rule.scheduleExpression,
      State: rule.state,
      Description: rule.description,
      RoleArn: rule.roleArn,
      EventBusName: rule.busName,
    };
  }

  private describeRule(body: unknown): JsonObject {
    const req = parseRequest(api.RuleRefSchema, body);
    const rule = this.requireRule(req.Name, req.EventBusName);
    return { ...this.ruleView(rule), CreatedBy: this.opts.accountId };
  }

  private listRules(body: unknown): JsonObject {
    const req = parseRequest(api.ListRulesRequestSchema, body);
    const bus = this.requireBus(req.EventBusName);
    const prefix = req.NamePrefix ?? '';
    const rules = this.store.rulesOf(bus.name).filter((r) => r.name.startsWith(prefix));
    const { items, next } = page(rules, (r) => r.name, req.NextToken, req.Limit);
    return { Rules: items.map((r) => this.ruleView(r)), NextToken: next };
  }

  private setRuleState(body: unknown, state: 'ENABLED' | 'DISABLED'): JsonObject {
    const req = parseRequest(api.RuleRefSchema, body);
    const rule = this.requireRule(req.Name, req.EventBusName);
    const updated = this.store.setRuleState(rule, state);
    this.replaceRule(rule, updated);
    this.opts.logger.info({ rule: rule.name, bus: rule.busName, state }, 'eventbridge rule state changed');
    return {};
  }

  // ---- targets ----

  private putTargets(body: unknown): JsonObject {
    const req = parseRequest(api.PutTargetsRequestSchema, body);
    const rule = this.requireRule(req.Rule, req.EventBusName);
    const failed: JsonObject[] = [];
    const byId = new Map(rule.targets.map((t) => [t.Id, t]));
    for (const target of req.Targets) {
      const problem = checkTarget(target);
      if (problem !== undefined) failed.push({ TargetId: target.Id, ErrorCode: 'ValidationException', ErrorMessage: problem });
      else byId.set(target.Id, target);
    }
    if (byId.size > MAX_TARGETS_PER_RULE) {
      throw new EventBridgeApiError('LimitExceededException', `The requested resource exceeds the maximum number allowed (${MAX_TARGETS_PER_RULE} targets per rule).`);
    }
    const updated = this.store.setTargets(rule, [...byId.values()]);
    this.replaceRule(rule, updated);
    this.opts.logger.info({ rule: rule.name, bus: rule.busName, targets: [...byId.keys()], failed: failed.length }, 'eventbridge targets put');
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  private removeTargets(body: unknown): JsonObject {
    const req = parseRequest(api.RemoveTargetsRequestSchema, body);
    const rule = this.requireRule(req.Rule, req.EventBusName);
    const ids = new Set(req.Ids);
    const updated = this.store.setTargets(rule, rule.targets.filter((t) => !ids.has(t.Id)));
    this.replaceRule(rule, updated);
    this.opts.logger.info({ rule: rule.name, bus: rule.busName, removed: req.Ids }, 'eventbridge targets removed');
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  private listTargetsByRule(body: unknown): JsonObject {
    const req = parseRequest(api.ListTargetsByRuleRequestSchema, body);
    const rule = this.requireRule(req.Rule, req.EventBusName);
    const sorted = [...rule.targets].sort((a, b) => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0));
    const { items, next } = page(sorted, (t) => t.Id, req.NextToken, req.Limit);
    return { Targets: items, NextToken: next };
  }

  // ---- buses ----

  private busView(bus: BusRecord): JsonObject {
    return {
      Name: bus.name,
      Arn: this.busArn(bus.name),
      Description: bus.description,
      CreationTime: epochSeconds(bus.createdAtMs),
      LastModifiedTime: epochSeconds(bus.lastModifiedMs),
    };
  }

  private createEventBus(body: unknown): JsonObject {
    const req = parseRequest(api.CreateEventBusRequestSchema, body);
    if (req.EventSourceName !== undefined) throw validationError('Partner event buses are not supported by the local bus.');
    if (this.store.bus(req.Name)) throw new EventBridgeApiError('ResourceAlreadyExistsException', `Event bus ${req.Name} already exists.`);
    const now = this.opts.clock.now();
    const bus: BusRecord = { name: req.Name, description: req.Description, createdAtMs: now, lastModifiedMs: now };
    this.store.putBus(bus);
    this.opts.logger.info({ bus: bus.name }, 'eventbridge bus created');
    return { EventBusArn: this.busArn(bus.name), Description: bus.description };
  }

  private describeEventBus(body: unknown): JsonObject {
    const req = parseRequest(api.DescribeEventBusRequestSchema, body ?? {});
    return this.busView(this.requireBus(req.Name));
  }

  private listEventBuses(body: unknown): JsonObject {
    const req = parseRequest(api.ListEventBusesRequestSchema, body ?? {});
    const prefix = req.NamePrefix ?? '';
    const buses = this.store.listBuses().filter((b) => b.name.startsWith(prefix));
    const { items, next } = page(buses, (b) => b.name, req.NextToken, req.Limit);
    return { EventBuses: items.map((b) => this.busView(b)), NextToken: next };
  }

  private deleteEventBus(body: unknown): JsonObject {
    const req = parseRequest(api.DeleteEventBusRequestSchema, body);
    const name = this.busName(req.Name);
    if (name === DEFAULT_BUS) throw validationError('Cannot delete event bus default.');
    if (!this.store.bus(name)) return {};
    if (this.store.rulesOf(name).length > 0) {
      throw validationError(`Event bus ${name} still has rules; delete them before deleting the bus.`);
    }
    this.store.deleteBus(name);
    this.opts.logger.info({ bus: name }, 'eventbridge bus deleted');
    return {};
  }
}
