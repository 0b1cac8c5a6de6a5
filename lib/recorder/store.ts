/**
 * The clip folder: names reserved so they never collide, clips written under a hidden
 * temporary name and published by a link that never replaces a file, the list the API serves,
 * the one file a name may open, and retention (maximum age, then a quota, oldest first).
 *
 * Only names this recorder gives (`naming.ts`) are ever listed, served or deleted: other files
 * in the folder are left alone, and a name from a client is matched exactly against that
 * pattern and then looked up as a plain file (a symbolic link is not served).
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../common/clock';
import type { ClipEntry, ClipFile, ClipStore } from '../system/types';
import { parseAviHeader, type VideoInfo } from './avi';
import { readMp4Info } from './mp4';
import { CLIP_TYPES, clipFormat, clipName, clipStart, isClipName, isTempName, tempName, type ClipFormat } from './naming';

export interface ClipFolderOptions {
  folder: string;
  clock?: Clock;
  /** Clips older than this (by their last write) are deleted. 0 = keep. */
  maxAgeMs?: number;
  /** The clips together may take at most this many bytes; the oldest go first. 0 = no quota. */
  quotaBytes?: number;
}

export interface PruneResult {
  deleted: string[];
  /** Bytes of clips left. */
  bytes: number;
  /** Why the quota could not be met (only the newest clip left and it alone is over the quota). */
  overQuota?: string;
}

interface Cached {
  size: number;
  mtimeMs: number;
  info?: VideoInfo;
}

/** Bytes read to find an AVI's header. */
const AVI_HEAD = 4096;

async function readInfo(file: string, format: ClipFormat): Promise<VideoInfo | undefined> {
  if (format === 'mp4') return readMp4Info(file);
  const fh = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(AVI_HEAD);
    const { bytesRead } = await fh.read(buf, 0, AVI_HEAD, 0);
    return parseAviHeader(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

export class ClipFolder implements ClipStore {
  readonly folder: string;
  private readonly clock: Clock;
  maxAgeMs: number;
  quotaBytes: number;
  /** Names given to clips still being written. */
  private readonly reserved = new Set<string>();
  /** Header facts per clip, keyed by name, valid while size and mtime are unchanged. */
  private readonly cache = new Map<string, Cached>();
  /** Exact start/end of clips this process wrote (the name carries whole seconds only). */
  private readonly exact = new Map<string, { start: number; end: number }>();

  constructor(opts: ClipFolderOptions) {
    this.folder = path.resolve(opts.folder);
    this.clock = opts.clock ?? systemClock;
    this.maxAgeMs = opts.maxAgeMs ?? 0;
    this.quotaBytes = opts.quotaBytes ?? 0;
  }

  /**
   * Create the folder if needed and prove it takes a file (a real write: permissions alone say
   * little, e.g. for root or a read-only mount).
   */
  async prepare(): Promise<void> {
    await fs.promises.mkdir(this.folder, { recursive: true });
    const probe = path.join(this.folder, `.vigil-write-test-${process.pid}`);
    await fs.promises.writeFile(probe, 'ok');
    await fs.promises.unlink(probe);
  }

  /** Remove the temporary files a crash left (at start only: none of this process's is being written). */
  async removeLeftovers(): Promise<void> {
    for (const name of await fs.promises.readdir(this.folder)) {
      if (isTempName(name)) await fs.promises.unlink(path.join(this.folder, name)).catch(() => undefined);
    }
  }

  /** A name for a clip starting at `start` that no file and no clip being written has. */
  async reserve(start: number, label: string, format: ClipFormat): Promise<string> {
    const present = new Set(await fs.promises.readdir(this.folder));
    const name = clipName(start, label, format, (n) => present.has(n) || this.reserved.has(n) || present.has(tempName(n)));
    this.reserved.add(name);
    return name;
  }

  /** Where a reserved clip is written until it is complete. */
  tempPath(name: string): string {
    return path.join(this.folder, tempName(name));
  }

  /**
   * Publish a complete clip under its name. A hard link cannot replace an existing file, so a
   * name is never overwritten; where links are not supported (FAT, some network shares) the
   * file is renamed after checking the name is still free.
   */
  async commit(name: string, span: { start: number; end: number }): Promise<string> {
    const temp = this.tempPath(name);
    const final = path.join(this.folder, name);
    try {
      await fs.promises.link(temp, final);
      await fs.promises.unlink(temp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new Error(`${name} appeared in the folder meanwhile (another program writing there?): not overwritten`);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EXDEV') throw err;
      const taken = await fs.promises.lstat(final).then(
        () => true,
        () => false,
      );
      if (taken) throw new Error(`${name} appeared in the folder meanwhile (another program writing there?): not overwritten`);
      await fs.promises.rename(temp, final);
    } finally {
      this.reserved.delete(name);
    }
    this.exact.set(name, span);
    return final;
  }

  /** Give up a reserved clip: its temporary file is removed. */
  async discard(name: string): Promise<void> {
    this.reserved.delete(name);
    await fs.promises.unlink(this.tempPath(name)).catch(() => undefined);
  }

  /** Finished clips (plain files with a clip name), oldest first, with size and last write. */
  private async scan(): Promise<Array<{ name: string; size: number; mtimeMs: number }>> {
    const names = (await fs.promises.readdir(this.folder)).filter(isClipName).sort();
    const out: Array<{ name: string; size: number; mtimeMs: number }> = [];
    for (const name of names) {
      try {
        const st = await fs.promises.lstat(path.join(this.folder, name));
        if (st.isFile()) out.push({ name, size: st.size, mtimeMs: st.mtimeMs });
      } catch {
        // deleted meanwhile
      }
    }
    return out;
  }

  async list(): Promise<ClipEntry[]> {
    const files = await this.scan();
    const present = new Set(files.map((f) => f.name));
    for (const k of this.cache.keys()) if (!present.has(k)) this.cache.delete(k);
    for (const k of this.exact.keys()) if (!present.has(k)) this.exact.delete(k);
    const out: ClipEntry[] = [];
    for (const f of files) {
      let c = this.cache.get(f.name);
      if (!c || c.size !== f.size || c.mtimeMs !== f.mtimeMs) {
        let info: VideoInfo | undefined;
        try {
          info = await readInfo(path.join(this.folder, f.name), clipFormat(f.name) as ClipFormat);
        } catch {
          info = undefined;
        }
        c = { size: f.size, mtimeMs: f.mtimeMs, info };
        this.cache.set(f.name, c);
      }
      const durationS = c.info ? Math.round(c.info.durationS * 1000) / 1000 : 0;
      const known = this.exact.get(f.name);
      const start = known?.start ?? clipStart(f.name) ?? f.mtimeMs;
      out.push({ name: f.name, start, end: known?.end ?? Math.round(start + durationS * 1000), bytes: f.size, durationS });
    }
    return out.reverse();
  }

  async file(name: string): Promise<ClipFile | undefined> {
    if (typeof name !== 'string' || !isClipName(name)) return undefined;
    const p = path.join(this.folder, name);
    // path.join of a validated name cannot leave the folder; checked anyway.
    if (path.dirname(p) !== this.folder) return undefined;
    try {
      const st = await fs.promises.lstat(p);
      if (!st.isFile()) return undefined;
      return { path: p, bytes: st.size, type: CLIP_TYPES[clipFormat(name) as ClipFormat] };
    } catch {
      return undefined;
    }
  }

  /**
   * Retention: delete clips whose last write is older than the maximum age, then the oldest
   * until the rest fit the quota. The newest clip is never deleted for the quota.
   */
  async prune(): Promise<PruneResult> {
    const files = await this.scan();
    const now = this.clock.now();
    const deleted: string[] = [];
    const keep: typeof files = [];
    for (const f of files) {
      if (this.maxAgeMs > 0 && now - f.mtimeMs > this.maxAgeMs && (await this.remove(f.name))) deleted.push(f.name);
      else keep.push(f);
    }
    let bytes = keep.reduce((n, f) => n + f.size, 0);
    let overQuota: string | undefined;
    if (this.quotaBytes > 0) {
      // oldest first by name (= by start time); the newest stays
      while (bytes > this.quotaBytes && keep.length > 1) {
        const f = keep.shift() as (typeof files)[number];
        if (await this.remove(f.name)) {
          deleted.push(f.name);
          bytes -= f.size;
        }
      }
      if (bytes > this.quotaBytes && keep.length === 1) {
        overQuota = `the newest clip alone (${keep[0].name}, ${Math.ceil(keep[0].size / 1048576)} MB) is larger than the quota`;
      }
    }
    return { deleted, bytes, overQuota };
  }

  private async remove(name: string): Promise<boolean> {
    try {
      await fs.promises.unlink(path.join(this.folder, name));
      this.cache.delete(name);
      this.exact.delete(name);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }
}
