import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

/** Where and when a result was measured; every result file carries one. */
export interface Provenance {
  /** `git rev-parse HEAD`, with `-dirty` when tracked files had uncommitted changes. */
  readonly commit: string;
  /** ISO 8601, when the measurement ended. */
  readonly date: string;
  readonly machine: string;
}

/** A result file's content: the measurement and where it was made (absent in files older than this field). */
export type Recorded<T> = T & { readonly provenance?: Provenance };

function commitOf(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? head : `${head}-dirty`;
  } catch {
    return 'unknown';
  }
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
}

/** This process's commit, the time now and this machine. */
export function measuredHere(): Provenance {
  return { commit: commitOf(), date: new Date().toISOString(), machine: machine() };
}

/** "commit `abc123456789`, 2026-12-03T10:34:42Z, 2 x …": a sentence part for the report. */
export function provenanceText(provenance: Provenance | undefined): string {
  if (provenance === undefined) {
    return 'an unrecorded commit and date (the file predates provenance; rerun to record it)';
  }
  const { commit, date, machine: where } = provenance;
  const dirty = commit.endsWith('-dirty') ? ' (with uncommitted changes)' : '';
  return `commit \`${commit.slice(0, 12)}\`${dirty}, ${date}, ${where}`;
}
