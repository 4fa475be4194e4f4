/**
 * Content-addressed blob folder: `<root>/sha256/<2 hex>/<64 hex>`. Identical content is stored
 * once whatever the number of runs that log it. Blobs are written to a temporary sibling, flushed,
 * hashed again and only then renamed into place, so a blob at its final path is complete and
 * matches its name unless something outside modelauto damages it later (readVerified catches that).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelautoError } from '../core/errors.js';
import { sha256, sha256File } from '../core/hash.js';

export interface StoredBlob {
  sha256: string;
  size: number;
}

export class ArtifactBlobs {
  constructor(readonly root: string) {}

  pathFor(digest: string): string {
    return join(this.root, 'sha256', digest.slice(0, 2), digest);
  }

  async exists(digest: string): Promise<boolean> {
    return (await fileSize(this.pathFor(digest))) !== undefined;
  }

  /** Stores in-memory content; `digest` is its SHA-256, computed by the caller to check conflicts first. */
  async putData(bytes: Uint8Array, digest: string): Promise<StoredBlob> {
    if (await this.isIntact(digest)) return { sha256: digest, size: bytes.byteLength };
    const tmp = await this.tempPathFor(digest);
    try {
      await writeFile(tmp, bytes, { flush: true });
      return await this.commit(tmp, digest, 'the given data');
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Hashes a file without storing it, so callers can check for conflicts before copying. */
  async digestFile(path: string): Promise<string> {
    try {
      return await sha256File(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO';
      throw new ModelautoError(code, `cannot read artifact source file: ${(e as Error).message}`, {
        location: { file: path },
        cause: e,
      });
    }
  }

  /** Copies a file into the store; `digest` is its hash from digestFile. */
  async putFile(path: string, digest: string): Promise<StoredBlob> {
    if (await this.isIntact(digest)) {
      const size = await fileSize(this.pathFor(digest));
      if (size !== undefined) return { sha256: digest, size };
    }
    const tmp = await this.tempPathFor(digest);
    try {
      await copyFile(path, tmp);
      const handle = await open(tmp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      return await this.commit(tmp, digest, path);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** The blob's bytes after checking them against the digest. */
  async readVerified(digest: string, what: string): Promise<Buffer> {
    const path = this.pathFor(digest);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new ModelautoError('STORE', `${what}: stored blob is missing (expected sha256 ${digest})`, {
        location: { file: path },
        cause: e,
      });
    }
    const actual = sha256(bytes);
    if (actual !== digest) {
      throw new ModelautoError(
        'STORE',
        `${what}: stored blob is corrupted: expected sha256 ${digest}, found ${actual} (${bytes.byteLength} bytes); ` +
          're-log the artifact to repair it',
        { location: { file: path } },
      );
    }
    return bytes;
  }

  /** True when the blob exists and still hashes to its name; a damaged blob gets rewritten by the caller. */
  private async isIntact(digest: string): Promise<boolean> {
    const path = this.pathFor(digest);
    if ((await fileSize(path)) === undefined) return false;
    return (await sha256File(path)) === digest;
  }

  private async tempPathFor(digest: string): Promise<string> {
    const dir = join(this.root, 'sha256', digest.slice(0, 2));
    await mkdir(dir, { recursive: true });
    return join(dir, `.${digest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  }

  private async commit(tmp: string, digest: string, source: string): Promise<StoredBlob> {
    const written = await sha256File(tmp);
    if (written !== digest) {
      throw new ModelautoError(
        'STORE',
        `artifact content changed or was damaged while storing it: expected sha256 ${digest}, wrote ${written}`,
        { location: { file: source } },
      );
    }
    const size = (await stat(tmp)).size;
    // Rename over an existing blob is safe: concurrent writers of one digest write identical bytes.
    await rename(tmp, this.pathFor(digest));
    return { sha256: digest, size };
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
