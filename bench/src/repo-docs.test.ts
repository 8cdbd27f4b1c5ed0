import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The repository explains itself: every document a file cites must be in the
 * repository. This checks every tracked (and untracked, not ignored) text file
 * for citations of the team's working notes outside the repository, for
 * relative Markdown links that do not resolve, and for references to a Markdown
 * path with an optional heading anchor (in comments, strings or prose) whose
 * file or heading does not exist. Repo-level, so it lives in the package whose
 * tests already look at the whole repository (bench writes docs/benchmarks.md).
 * The fixtures below assemble their paths from parts, so that this file passes
 * its own checks.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Directories never scanned by the fallback walk (git is the normal source of the file list). */
const SKIPPED_DIRECTORIES = new Set([
  '.git',
  'node_modules',
  'dist',
  'coverage',
  '.turbo',
  'data',
  'test-results',
  'tmp',
]);
/** Larger files are generated data, not prose or code. */
const MAX_SCANNED_BYTES = 2 * 1024 * 1024;

// Assembled from parts so that this file does not cite them itself.
const NOTE_NAMES = ['DESIGN', 'FACTS', 'ALGORITHMS'] as const;
const NOTE_CITATION = new RegExp(
  `\\b(?:${NOTE_NAMES.join('|')})(?:\\.md\\b|\\s*(?:§|section\\b))`,
  'g',
);
const SHARED_ABSOLUTE = new RegExp(['', 'work', 'shared'].join('\\/'), 'g');
/** One or more `..` segments, then `shared`: allowed only when that names a directory of the repository. */
const SHARED_RELATIVE = /(?<![\w.-])((?:\.\.\/)+shared)\b/g;
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)'"`>\]]*/gi;
/** A path with at least one slash that ends in the Markdown extension, or a bare file name with an anchor. */
const DOC_PATH = /(?<![\w/.-])((?:[\w.-]+\/)+[\w.-]*\w\.md|[\w.-]*\w\.md(?=#))(?:#([\w-]+))?/g;
const INLINE_LINK = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const HTML_ANCHOR = /<a\s+(?:name|id)="([^"]+)"/g;

/** One finding: where, and what is wrong. */
interface Problem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** What the checks need to know about the repository (real files, or a fixture in the self-test). */
interface RepoView {
  /** Whether a repo-relative path (posix separators) is a file or directory. */
  exists(relativePath: string): boolean;
  /** The heading anchors of a repo-relative Markdown file. */
  anchors(relativePath: string): ReadonlySet<string>;
}

/**
 * GitHub's heading anchor: the text without Markdown link syntax, backticks and
 * HTML, lower-cased, punctuation dropped (letters, digits, marks, spaces, `_`
 * and `-` kept), each space a hyphen.
 */
function headingSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]*>/g, '')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Lines of Markdown outside fenced code blocks, with their 1-based numbers. */
function proseLines(markdown: string): { text: string; line: number }[] {
  const lines: { text: string; line: number }[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(text)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker[0];
      else if (marker.startsWith(fence)) fence = undefined;
      return;
    }
    if (fence === undefined) lines.push({ text, line: index + 1 });
  });
  return lines;
}

/** Every anchor a Markdown file defines: heading slugs (GitHub numbers repeats -1, -2...) and HTML anchors. */
function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = HEADING.exec(text)?.[2];
    if (heading !== undefined) {
      const slug = headingSlug(heading);
      const repeats = seen.get(slug) ?? 0;
      seen.set(slug, repeats + 1);
      anchors.add(repeats === 0 ? slug : `${slug}-${repeats}`);
    }
    for (const match of text.matchAll(HTML_ANCHOR)) anchors.add(group(match, 1) ?? '');
  }
  return anchors;
}

/** A capture group, undefined when it did not take part in the match. */
function group(match: RegExpMatchArray, index: number): string | undefined {
  return match[index];
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** `a/b/../c` relative to the repository root, or undefined when it leaves the repository. */
function normalise(fromDirectory: string, target: string): string | undefined {
  const joined = path.posix.normalize(path.posix.join(fromDirectory, target));
  return joined === '..' || joined.startsWith('../') ? undefined : joined.replace(/\/$/, '');
}

function checkAnchor(
  repo: RepoView,
  target: string,
  anchor: string | undefined,
  where: { file: string; line: number },
  problems: Problem[],
): void {
  if (anchor === undefined || anchor === '' || !target.endsWith('.md')) return;
  if (!repo.anchors(target).has(anchor.toLowerCase())) {
    problems.push({ ...where, message: `no heading with anchor #${anchor} in ${target}` });
  }
}

/** Citations of documents outside the repository: the working notes, and `shared/` beside the repository. */
function outsideCitations(file: string, text: string, repo: RepoView): Problem[] {
  const problems: Problem[] = [];
  for (const match of text.matchAll(NOTE_CITATION)) {
    problems.push({
      file,
      line: lineAt(text, match.index),
      message: `cites "${match[0]}", which is not in the repository; cite docs/architecture.md or docs/algorithms.md`,
    });
  }
  for (const match of text.matchAll(SHARED_ABSOLUTE)) {
    problems.push({
      file,
      line: lineAt(text, match.index),
      message: `cites ${match[0]}, outside the repository`,
    });
  }
  for (const match of text.matchAll(SHARED_RELATIVE)) {
    const resolved = normalise(path.posix.dirname(file), group(match, 1) ?? '');
    if (resolved === undefined || !repo.exists(resolved)) {
      problems.push({
        file,
        line: lineAt(text, match.index),
        message: `cites ${group(match, 1) ?? ''}, which is not a directory of the repository`,
      });
    }
  }
  return problems;
}

/** Relative links of a Markdown file (inline and reference definitions) that do not resolve. */
function brokenMarkdownLinks(file: string, markdown: string, repo: RepoView): Problem[] {
  const problems: Problem[] = [];
  const directory = path.posix.dirname(file);
  for (const { text, line } of proseLines(markdown)) {
    const prose = text.replace(/(`+)[\s\S]*?\1/g, '');
    const targets = [
      ...[...prose.matchAll(INLINE_LINK)].map((m) => group(m, 1) ?? ''),
      ...[...prose.matchAll(REFERENCE_DEFINITION)].map((m) => group(m, 1) ?? ''),
    ];
    for (const raw of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) continue; // http:, https:, mailto:
      const hash = raw.indexOf('#');
      const pathPart = decodeURIComponent(hash === -1 ? raw : raw.slice(0, hash));
      const anchor = hash === -1 ? undefined : raw.slice(hash + 1);
      const target =
        pathPart === ''
          ? file
          : pathPart.startsWith('/')
            ? normalise('', pathPart.slice(1))
            : normalise(directory, pathPart);
      if (target === undefined || !repo.exists(target)) {
        problems.push({ file, line, message: `link to ${raw}: no such file in the repository` });
        continue;
      }
      checkAnchor(repo, target, anchor, { file, line }, problems);
    }
  }
  return problems;
}

/**
 * Markdown paths named anywhere in a file (comments above all): a path with a slash
 * (`docs/` + a name), or a bare name followed by an anchor. The path must exist relative to
 * the file's directory or one of its ancestors up to the repository root, and the anchor must
 * be one of its headings.
 */
function brokenDocReferences(file: string, text: string, repo: RepoView): Problem[] {
  const problems: Problem[] = [];
  const withoutUrls = text.replace(URL_PATTERN, (url) => ' '.repeat(url.length));
  for (const match of withoutUrls.matchAll(DOC_PATH)) {
    const reference = group(match, 1) ?? '';
    const anchor = group(match, 2);
    const line = lineAt(text, match.index);
    let directory = path.posix.dirname(file);
    let target: string | undefined;
    for (;;) {
      const candidate = normalise(directory === '.' ? '' : directory, reference);
      if (candidate !== undefined && repo.exists(candidate)) {
        target = candidate;
        break;
      }
      if (directory === '.' || directory === '') break;
      directory = path.posix.dirname(directory);
    }
    if (target === undefined) {
      problems.push({ file, line, message: `names ${reference}, which is not in the repository` });
      continue;
    }
    checkAnchor(repo, target, anchor, { file, line }, problems);
  }
  return problems;
}

function gitFiles(): string[] | undefined {
  try {
    const listing = execFileSync(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    return listing.split('\0').filter((name) => name !== '');
  } catch {
    return undefined; // not a git checkout (an unpacked archive): walk the tree instead
  }
}

function walkedFiles(directory = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(path.join(repoRoot, directory), { withFileTypes: true })) {
    const relative = directory === '' ? entry.name : `${directory}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(entry.name)) files.push(...walkedFiles(relative));
    } else if (entry.isFile()) {
      files.push(relative);
    }
  }
  return files;
}

/** The repository's text files: path and content, binary and oversized files left out. */
function repositoryTextFiles(): { file: string; text: string }[] {
  const files = (gitFiles() ?? walkedFiles()).filter((file) => file !== 'pnpm-lock.yaml');
  const texts: { file: string; text: string }[] = [];
  for (const file of [...new Set(files)].sort()) {
    const absolute = path.join(repoRoot, file);
    if (!existsSync(absolute)) continue; // deleted in the working tree, not yet in the index
    const stats = statSync(absolute);
    if (!stats.isFile() || stats.size > MAX_SCANNED_BYTES) continue;
    const bytes = readFileSync(absolute);
    if (bytes.subarray(0, 8192).includes(0)) continue;
    texts.push({ file, text: bytes.toString('utf8') });
  }
  return texts;
}

const realRepo: RepoView = (() => {
  const anchorCache = new Map<string, ReadonlySet<string>>();
  return {
    exists: (relative) => existsSync(path.join(repoRoot, relative)),
    anchors: (relative) => {
      let anchors = anchorCache.get(relative);
      if (anchors === undefined) {
        anchors = markdownAnchors(readFileSync(path.join(repoRoot, relative), 'utf8'));
        anchorCache.set(relative, anchors);
      }
      return anchors;
    },
  };
})();

function describeProblems(problems: readonly Problem[]): string[] {
  return problems.map(({ file, line, message }) => `${file}:${line}: ${message}`);
}

describe('heading anchors', () => {
  it('are the slugs GitHub gives headings', () => {
    expect(headingSlug('Top-k with error feedback')).toBe('top-k-with-error-feedback');
    expect(headingSlug("4. The coordinator's checks")).toBe('4-the-coordinators-checks');
    expect(headingSlug("Sparse update (magic `0x53`, 'S', version 1)")).toBe(
      'sparse-update-magic-0x53-s-version-1',
    );
    expect(headingSlug('Error codes (`CodecError.code`)')).toBe('error-codes-codecerrorcode');
    expect(headingSlug('Local SGD and LUPA')).toBe('local-sgd-and-lupa');
    expect(headingSlug('socket.io: workers (`/worker`)')).toBe('socketio-workers-worker');
  });

  it('number repeated headings and skip fenced code', () => {
    const markdown = '# A\n## Notes\n```\n# not a heading\n```\n## Notes\n<a id="here"></a>\n';
    expect([...markdownAnchors(markdown)]).toEqual(['a', 'notes', 'notes-1', 'here']);
  });
});

describe('the checks themselves', () => {
  const md = '.md';
  const up = '..';
  const fixture: RepoView = {
    exists: (relative) => ['docs', `docs/a${md}`, 'pkg/src', 'pkg/src/shared'].includes(relative),
    anchors: (relative) => new Set(relative === `docs/a${md}` ? ['known'] : []),
  };

  it('find a citation of the working notes and of shared/ outside the repository', () => {
    const [design, facts] = NOTE_NAMES;
    const text = [
      `// see ${design}${md} §4`,
      `// ${facts} section 2`,
      `import x from '${up}/shared/api.js';`,
      `import y from '${up}/${up}/${up}/shared/notes.js';`,
    ].join('\n');
    expect(describeProblems(outsideCitations('pkg/src/dashboard/x.ts', text, fixture))).toEqual([
      `pkg/src/dashboard/x.ts:1: cites "${design}${md}", which is not in the repository; cite docs/architecture.md or docs/algorithms.md`,
      `pkg/src/dashboard/x.ts:2: cites "${facts} section", which is not in the repository; cite docs/architecture.md or docs/algorithms.md`,
      `pkg/src/dashboard/x.ts:4: cites ${up}/${up}/${up}/shared, which is not a directory of the repository`,
    ]);
  });

  it('find broken links, broken anchors and missing doc paths', () => {
    const markdown = `[ok](a${md}#known) [gone](b${md}) [bad](a${md}#unknown) \`[code](c${md})\`\n`;
    expect(describeProblems(brokenMarkdownLinks(`docs/index${md}`, markdown, fixture))).toEqual([
      `docs/index${md}:1: link to b${md}: no such file in the repository`,
      `docs/index${md}:1: no heading with anchor #unknown in docs/a${md}`,
    ]);
    const code = `// docs/a${md}#known\n// docs/a${md}#nope, docs/z${md}, https://x.org/docs/y${md}\n`;
    expect(describeProblems(brokenDocReferences('pkg/src/x.ts', code, fixture))).toEqual([
      `pkg/src/x.ts:2: no heading with anchor #nope in docs/a${md}`,
      `pkg/src/x.ts:2: names docs/z${md}, which is not in the repository`,
    ]);
  });
});

describe('documents the repository cites', () => {
  const files = repositoryTextFiles();

  it('scans the repository', () => {
    expect(files.map(({ file }) => file)).toEqual(
      expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/algorithms.md']),
    );
  });

  it('cites no document outside the repository', () => {
    const problems = files.flatMap(({ file, text }) => outsideCitations(file, text, realRepo));
    expect(describeProblems(problems)).toEqual([]);
  });

  it('has relative Markdown links that resolve, anchors included', () => {
    const problems = files
      .filter(({ file }) => file.endsWith('.md'))
      .flatMap(({ file, text }) => brokenMarkdownLinks(file, text, realRepo));
    expect(describeProblems(problems)).toEqual([]);
  });

  it('names only Markdown paths and anchors that exist', () => {
    const problems = files.flatMap(({ file, text }) => brokenDocReferences(file, text, realRepo));
    expect(describeProblems(problems)).toEqual([]);
  });
});
