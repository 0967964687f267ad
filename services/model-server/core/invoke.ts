import { PumpwatchError } from '../../../shared/errors';
import { InferenceRequestSchema, type InferenceRequest } from '../../../shared/schemas/inference';
import { describeIssues } from '../../../shared/schemas/issues';
import { ModelInputError, type LoadedModel } from './scorer';

/** One invocation as the container sees it: the body and content negotiation headers. */
export interface ModelInvocation {
  readonly body: Uint8Array;
  readonly contentType?: string;
  readonly accept?: string;
}

/** The model's answer, in HTTP terms. Non-2xx replies carry a {@link ModelErrorBody}. */
export interface ModelReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** JSON body of a failed invocation (the shape TorchServe/MMS containers use). */
export interface ModelErrorBody {
  readonly code: number;
  readonly type: string;
  readonly message: string;
}

/** The only media type the scoring core reads and writes. */
export const JSON_MEDIA_TYPE = 'application/json';

function mediaType(header: string | undefined): string | undefined {
  const t = header?.split(';')[0]?.trim().toLowerCase();
  return t === '' ? undefined : t;
}

function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const t = mediaType(part);
    return t === '*/*' || t === 'application/*' || t === JSON_MEDIA_TYPE;
  });
}

/** A reply with a {@link ModelErrorBody}. */
export function errorReply(status: number, type: string, message: string): ModelReply {
  const body: ModelErrorBody = { code: status, type, message };
  return { status, contentType: JSON_MEDIA_TYPE, body: JSON.stringify(body) };
}

/**
 * Parses an invocation body into an {@link InferenceRequest}: JSON, the request schema, and all
 * windows of the request's pump. Throws ModelInputError naming the field that failed.
 */
export function parseInferenceRequest(body: Uint8Array): InferenceRequest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new ModelInputError(`request body is not JSON: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const parsed = InferenceRequestSchema.safeParse(json);
  if (!parsed.success) throw new ModelInputError(`invalid inference request: ${describeIssues(parsed.error)}`, parsed.error);
  const request = parsed.data;
  request.windows.forEach((w, i) => {
    if (w.pumpId !== request.pumpId) {
      throw new ModelInputError(`windows[${i}].pumpId ${JSON.stringify(w.pumpId)} is not the request's pump ${JSON.stringify(request.pumpId)}`);
    }
  });
  return request;
}

/**
 * Scores one invocation with a loaded model and answers the way the container does over HTTP:
 * 200 with the InferenceResponse; 415 for a body that is not JSON by content type; 406 when the
 * caller does not accept JSON; 400 for input the model cannot score (bad JSON, schema violations,
 * windows of another pump, missing or non-finite features); 500 when the model itself fails.
 * Pure: no I/O; the caller measures and logs.
 */
export function invokeModel(model: LoadedModel, invocation: ModelInvocation): ModelReply {
  const type = mediaType(invocation.contentType);
  if (type !== undefined && type !== JSON_MEDIA_TYPE && !type.endsWith('+json')) {
    return errorReply(415, 'UnsupportedMediaType', `content type ${type} is not supported; send ${JSON_MEDIA_TYPE}`);
  }
  if (!acceptsJson(invocation.accept)) {
    return errorReply(406, 'NotAcceptable', `the model answers ${JSON_MEDIA_TYPE}, not ${invocation.accept ?? ''}`);
  }
  try {
    const request = parseInferenceRequest(invocation.body);
    const response = model.score(request);
    return { status: 200, contentType: JSON_MEDIA_TYPE, body: JSON.stringify(response) };
  } catch (err) {
    if (err instanceof ModelInputError) return errorReply(400, 'ModelInputError', err.message);
    const name = err instanceof PumpwatchError ? err.name : 'ModelFailure';
    return errorReply(500, name, `model ${model.modelId} version ${model.version} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
