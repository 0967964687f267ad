import { createGzip, gunzipSync } from 'node:zlib';
import { pack as tarPack, extract as tarExtract } from 'tar-stream';
import { z } from 'zod';
import { ValidationError } from '../../../shared/errors';

/** Ordered feature names plus what the model was trained on. */
export const FeatureSpecSchema = z.strictObject({
  features: z.array(z.string().min(3)).min(1),
  trainingPeriod: z.strictObject({ from: z.number().int(), to: z.number().int() }).nullable(),
  trainingWindows: z.number().int().nonnegative(),
  trainingMetrics: z.record(z.string(), z.number()),
  /** Per-feature training distribution (decile edges), for drift statistics. */
  distribution: z.array(z.array(z.number())).optional(),
});
export type FeatureSpec = z.infer<typeof FeatureSpecSchema>;

/** `model.json` inside `model.tar.gz`. */
export const ModelDocumentSchema = z.strictObject({
  format: z.literal('pumpwatch-model/1'),
  modelId: z.string().min(1),
  version: z.string().min(1),
  family: z.string().min(1),
  createdAt: z.number().int(),
  params: z.unknown(),
});
export type ModelDocument = z.infer<typeof ModelDocumentSchema>;

export interface ModelArtifact {
  readonly document: ModelDocument;
  readonly featureSpec: FeatureSpec;
}

/** Raised when an artifact cannot be read; the endpoint answers ModelError. */
export class InvalidArtifactError extends ValidationError {
  constructor(message: string, cause?: unknown) {
    super(message, cause);
  }
}

const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

/** Packs an artifact as `model.tar.gz` holding `model.json` and `feature-spec.json`. */
export async function packArtifact(artifact: ModelArtifact): Promise<Buffer> {
  const p = tarPack();
  const entries: [string, unknown][] = [
    ['model.json', artifact.document],
    ['feature-spec.json', artifact.featureSpec],
  ];
  // Fixed mtime: the same model packs to the same bytes.
  for (const [name, body] of entries) p.entry({ name, mtime: new Date(artifact.document.createdAt), mode: 0o644 }, JSON.stringify(body));
  p.finalize();
  const gz = p.pipe(createGzip());
  const chunks: Buffer[] = [];
  for await (const chunk of gz) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads `model.tar.gz` bytes back into a validated artifact. */
export async function unpackArtifact(bytes: Uint8Array): Promise<ModelArtifact> {
  let tar: Buffer;
  try {
    tar = gunzipSync(bytes, { maxOutputLength: MAX_ENTRY_BYTES * 2 });
  } catch (err) {
    throw new InvalidArtifactError('model.tar.gz is not gzip data', err);
  }
  const files = new Map<string, string>();
  const ex = tarExtract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(Buffer.from(c as Uint8Array)));
      stream.on('end', () => {
        if (header.type === 'file') files.set(header.name.replace(/^\.\//, ''), Buffer.concat(chunks).toString('utf8'));
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', (err) => reject(new InvalidArtifactError('model.tar.gz is not a tar archive', err)));
  });
  ex.end(tar);
  await done;
  const read = <T>(name: string, schema: z.ZodType<T>): T => {
    const text = files.get(name);
    if (text === undefined) throw new InvalidArtifactError(`model.tar.gz has no ${name}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new InvalidArtifactError(`${name} is not JSON`, err);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new InvalidArtifactError(`${name}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return parsed.data;
  };
  return { document: read('model.json', ModelDocumentSchema), featureSpec: read('feature-spec.json', FeatureSpecSchema) };
}
