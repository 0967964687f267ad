import { GetObjectCommand, NoSuchBucket, NoSuchKey, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { isRetryableAwsError } from '../../../shared/errors';
import type { ArtifactSource } from '../core/model-cache';
import { ArtifactNotFoundError, ArtifactSourceError } from '../core/model-errors';

/** Options of {@link S3ArtifactSource}. */
export interface S3ArtifactSourceOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix the locations are relative to (a SageMaker multi-model `ModelDataUrl` prefix), e.g. `models/`. */
  readonly prefix?: string;
}

/**
 * Artifacts in S3: location `pumps/P-1/v3/model.tar.gz` is the object `prefix + location`, the way
 * a multi-model endpoint resolves `TargetModel`. `NoSuchKey`/`NoSuchBucket` become
 * {@link ArtifactNotFoundError}; other failures {@link ArtifactSourceError} (retryable when the SDK
 * error is).
 */
export class S3ArtifactSource implements ArtifactSource {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3ArtifactSourceOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    const prefix = options.prefix ?? '';
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  /** The object key for a location. */
  key(location: string): string {
    return `${this.prefix}${location}`;
  }

  describe(location: string): string {
    return `s3://${this.bucket}/${this.key(location)}`;
  }

  async get(location: string, signal?: AbortSignal): Promise<Uint8Array> {
    const key = this.key(location);
    const where = this.describe(location);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      if (!out.Body) throw new ArtifactSourceError(`${where}: empty response body`, { retryable: true });
      return await out.Body.transformToByteArray();
    } catch (err) {
      if (err instanceof ArtifactSourceError) throw err;
      if (err instanceof NoSuchKey || err instanceof NoSuchBucket || (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)) {
        throw new ArtifactNotFoundError(where, `no artifact at ${where}`, err);
      }
      if (signal?.aborted) throw err;
      throw new ArtifactSourceError(`reading ${where} failed: ${err instanceof Error ? err.message : String(err)}`, {
        retryable: isRetryableAwsError(err),
        cause: err,
      });
    }
  }
}
