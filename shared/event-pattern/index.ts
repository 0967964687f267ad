/**
 * EventBridge event patterns: validation (what PutRule / TestEventPattern reject) and matching,
 * with EventBridge's semantics. Pure: no I/O, no environment, no clock.
 */
export { compileEventPattern, matchesEventPattern, type CompiledEventPattern } from './event-pattern';
export { InvalidEventPatternError } from './errors';
export { prepareEvent, PreparedEvent, type LeafValue } from './prepared-event';
