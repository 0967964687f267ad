import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { ValidationError } from '../../../shared/errors';
import type { ArtifactSource } from '../core/model-cache';
import { ArtifactNotFoundError, ArtifactSourceError } from '../core/model-errors';

/** Options of {@link DirectoryArtifactSource}. */
export interface DirectoryArtifactSourceOptions {
  /** Locations must resolve inside this directory. SageMaker's multi-model root is `/opt/ml/models`. */
  readonly root: string;
}

const ARTIFACT_FILE = 'model.tar.gz';
const EXTRACTED_FILES = ['model.json', 'feature-spec.json'] as const;

/** The errno code of a file-system error (structural: such errors may come from another realm). */
function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/**
 * Artifacts on the local file system, for the SageMaker multi-model container contract: SageMaker
 * puts each model under `/opt/ml/models/{model_name}/model` and passes that path as `url`.
 * A location (absolute, or relative to the root) may be:
 * - a `model.tar.gz` file;
 * - a directory holding `model.tar.gz`;
 * - a directory holding the extracted `model.json` and `feature-spec.json` (SageMaker extracts
 *   the archive), which are packed back into archive bytes so every source yields the same format.
 * Paths outside the root are rejected (ValidationError), absent ones are ArtifactNotFoundError.
 */
export class DirectoryArtifactSource implements ArtifactSource {
  private readonly root: string;

  constructor(options: DirectoryArtifactSourceOptions) {
    this.root = resolve(options.root);
  }

  describe(location: string): string {
    return isAbsolute(location) ? resolve(location) : resolve(this.root, location);
  }

  async get(location: string, signal?: AbortSignal): Promise<Uint8Array> {
    const path = this.describe(location);
    const rel = relative(this.root, path);
    if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
      throw new ValidationError(`model location ${path} is outside the model root ${this.root}`);
    }
    try {
      const info = await stat(path);
      if (info.isFile()) return await readFile(path, { signal });
      if (!info.isDirectory()) throw new ArtifactNotFoundError(path, `${path} is neither a file nor a directory`);
      const archive = join(path, ARTIFACT_FILE);
      if (await isFile(archive)) return await readFile(archive, { signal });
      const files = await Promise.all(EXTRACTED_FILES.map(async (name) => ({ name, path: join(path, name), present: await isFile(join(path, name)) })));
      if (!files.some((f) => f.present)) throw new ArtifactNotFoundError(path, `${path} holds no ${ARTIFACT_FILE} and no ${EXTRACTED_FILES.join(' / ')}`);
      // Pack what is there; a missing file is then reported by unpacking, like any incomplete archive.
      const present = await Promise.all(files.filter((f) => f.present).map(async (f) => ({ name: f.name, body: await readFile(f.path, { signal }) })));
      return await packFiles(present);
    } catch (err) {
      if (err instanceof ArtifactNotFoundError) throw err;
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new ArtifactNotFoundError(path, `no artifact at ${path}`, err);
      if (signal?.aborted) throw err;
      throw new ArtifactSourceError(`reading ${path} failed: ${err instanceof Error ? err.message : String(err)}`, {
        retryable: code === 'EMFILE' || code === 'EAGAIN' || code === 'EIO',
        cause: err,
      });
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}

/** tar + gzip of a few small files. */
async function packFiles(files: readonly { name: string; body: Buffer }[]): Promise<Buffer> {
  const p = tarPack();
  for (const f of files) p.entry({ name: f.name, mode: 0o644, mtime: new Date(0) }, f.body);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of p.pipe(createGzip())) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
