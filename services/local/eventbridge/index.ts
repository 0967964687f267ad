/**
 * The local EventBridge: an HTTP server speaking the EventBridge JSON 1.1 API (for the real AWS SDK
 * client) with buses, rules, targets and event-pattern matching exactly as EventBridge matches.
 *
 * Targets — the `Arn` decides the kind:
 * - `arn:pumpwatch:local:listener:NAME`: an in-process function, `server.addListener(NAME, fn)`;
 * - `http://…` / `https://…`: a webhook, the payload POSTed as JSON (HttpParameters headers and
 *   query string applied), retried on 429 / 5xx / network errors, not on other 4xx;
 * - `file:///absolute/path.jsonl`: one JSON line appended per event.
 * Targets receive the whole event, or `Input` (constant JSON) or `InputPath` (`$.a.b` style);
 * InputTransformer is rejected. Failed deliveries are retried with backoff, then written to the
 * target's `DeadLetterConfig.Arn` (a `file:///…jsonl` URL) or the server's dead-letter file.
 * See README.md beside this file.
 */
export { startEventBridgeServer, type EventBridgeServer, type EventBridgeServerOptions } from './server';
export type { PutEventsFault } from './operations';
export { EventBridgeEnvelopeSchema, type EventBridgeEnvelope } from './envelope';
export { listenerArn, LISTENER_ARN_PREFIX } from './targets';
export type { DeadLetterRecord, DeliveryInfo, EventListener, ExhaustedCondition } from './delivery';
