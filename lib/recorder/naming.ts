/**
 * Clip file names: the clip's local start date-time (ISO order, year first, so names sort by
 * time), then the system's name, then — only when that name is taken — a counter:
 *
 *   2026-12-06T03-12-09_front-door.mp4
 *   2026-12-06T03-12-09_front-door_02.mp4     (a second clip starting in the same second)
 *
 * `-` instead of `:` keeps names valid on every file system (FAT, SMB, Windows). The system
 * name is reduced to letters, digits and `-` (never `_`, which separates the counter), so a
 * name is always safe in a URL and a shell, and a client-sent name can be checked exactly.
 * Unfinished clips are written as `.<name>.part` (hidden, never listed) and renamed when done.
 */

export type ClipFormat = 'mp4' | 'avi';

/** Content types served for each container. */
export const CLIP_TYPES: Record<ClipFormat, string> = { mp4: 'video/mp4', avi: 'video/x-msvideo' };

const CLIP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})(?:_[A-Za-z0-9-]{1,40})?(?:_\d{2,4})?\.(mp4|avi)$/;
const TEMP_RE = /^\.(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:_[A-Za-z0-9-]{1,40})?(?:_\d{2,4})?\.(?:mp4|avi))\.part$/;

/** A system or node name reduced to `[A-Za-z0-9-]{1,40}` ("" when nothing is left). */
export function nameLabel(name: string | undefined): string {
  return (name ?? '')
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40)
    .replace(/-$/, '');
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `2026-12-06T03-12-09` in the host's local time. */
export function localStamp(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}-${pad(d.getMinutes())}-${pad(d.getSeconds())}`;
}

/**
 * The name for a clip starting at `t`: the first of `<stamp>_<label>.<ext>`,
 * `<stamp>_<label>_02.<ext>`, … that `taken` does not report. Names of the same second sort
 * in the order they were given (`.` sorts before `_`).
 */
export function clipName(t: number, label: string, format: ClipFormat, taken: (name: string) => boolean): string {
  const base = `${localStamp(t)}${label ? `_${label}` : ''}`;
  let name = `${base}.${format}`;
  for (let n = 2; taken(name); n++) {
    if (n > 9999) throw new Error(`no free clip name for ${base}`);
    name = `${base}_${pad(n)}.${format}`;
  }
  return name;
}

/** True for a finished clip's name (exactly the names `clipName` gives). */
export function isClipName(name: string): boolean {
  return CLIP_RE.test(name);
}

/** The container of a clip name. */
export function clipFormat(name: string): ClipFormat | undefined {
  const m = CLIP_RE.exec(name);
  return m ? (m[7] as ClipFormat) : undefined;
}

/** The start time (ms epoch, whole seconds, host's local time) a clip name carries. */
export function clipStart(name: string): number | undefined {
  const m = CLIP_RE.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const t = new Date(y, mo - 1, d, h, mi, s).getTime();
  return Number.isFinite(t) ? t : undefined;
}

/** The hidden name a clip is written under until it is complete. */
export function tempName(name: string): string {
  return `.${name}.part`;
}

/** True for a temporary file this recorder writes (left over when a write was cut short). */
export function isTempName(name: string): boolean {
  return TEMP_RE.test(name);
}
