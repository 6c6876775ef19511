/**
 * Doc-tests: the code samples of the guides are tests, so they cannot rot.
 *
 * - A ```` ```ts ```` block is type-checked against the workspace packages' sources (strict, as
 *   the packages are) and run as an ES module in the tier its fence names:
 *   no attribute = the unit tier (plain Node); `doctest=host` = the host tier (installed
 *   programs); `doctest=lab` = inside the lab guest, with real /dev/sg* and /dev/bsg/* nodes;
 *   `doctest=compile` = type-checked only (for a fragment that cannot run anywhere).
 *   Show results with `node:assert/strict`, which makes the sample check itself.
 * - A ```` ```console ```` block is a transcript: each `$ sgv4 ...` line is run in-process
 *   (runCli) and what it prints must match the lines after it exactly. Same tiers.
 * - Every `sgv4 ...` line of a `sh`/`bash`/`console` block is checked against the CLI's
 *   command tree (command, options, argument count) even when it is not run.
 * - `js` blocks are refused: write samples in TypeScript.
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type FencedBlock, fencedBlocks } from './markdown-blocks.js';
import { shellCommands } from './shell-words.js';

/** Where a doc-test runs. */
export type DocTestTier = 'unit' | 'host' | 'lab';

/** What a block's fence asks for: a tier to run in, or type-checking only. */
export type DocTestMode = DocTestTier | 'compile';

/** One sample that is tested. */
export interface DocTest {
  readonly block: FencedBlock;
  readonly kind: 'typescript' | 'console';
  readonly mode: DocTestMode;
  /** `docs/guides/x.md:12`: where the sample is, for messages and test names. */
  readonly id: string;
}

/** One `sgv4` command line found in a shell or console block. */
export interface ShellInvocation {
  /** `docs/guides/x.md:14`. */
  readonly id: string;
  /** The words of the command, program name included. */
  readonly words: readonly string[];
}

const TYPESCRIPT = new Set(['ts', 'typescript', 'mts']);
const JAVASCRIPT = new Set(['js', 'javascript', 'mjs', 'cjs', 'jsx', 'tsx']);
const SHELL = new Set(['sh', 'bash', 'shell', 'console']);
const MODES: readonly DocTestMode[] = ['unit', 'host', 'lab', 'compile'];

/**
 * Guides written before the doc-test convention whose samples are not annotated yet: an
 * unannotated TypeScript sample there is type-checked only. Empty: every guide is annotated, and
 * a new guide never goes here.
 */
export const GUIDES_PENDING_ANNOTATION: ReadonlySet<string> = new Set<string>();

/** The mode a block's fence asks for (`doctest=...`), or the file's default when it names none. */
export function requestedMode(block: FencedBlock): string {
  return block.attributes.doctest ?? (GUIDES_PENDING_ANNOTATION.has(block.file) ? 'compile' : 'unit');
}

/** The Markdown files whose samples are tested: README.md and docs/guides/*.md. */
export function documentationFiles(repoRoot: string): string[] {
  const guides = readdirSync(join(repoRoot, 'docs', 'guides'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join('docs', 'guides', name));
  return ['README.md', ...guides];
}

/** Everything testable in the documentation, and what is wrong with the rest. */
export interface DocumentationSamples {
  readonly docTests: readonly DocTest[];
  readonly invocations: readonly ShellInvocation[];
  /** Blocks that break the rules (a `js` block, an unknown `doctest=` value). */
  readonly problems: readonly string[];
}

/** Reads every documentation file and sorts its blocks into doc-tests and checked invocations. */
export function collectSamples(repoRoot: string, files = documentationFiles(repoRoot)): DocumentationSamples {
  const docTests: DocTest[] = [];
  const invocations: ShellInvocation[] = [];
  const problems: string[] = [];
  for (const file of files) {
    for (const block of fencedBlocks(readFileSync(join(repoRoot, file), 'utf8'), file)) {
      const id = `${file}:${block.line}`;
      const mode = requestedMode(block) as DocTestMode;
      if (!MODES.includes(mode)) {
        problems.push(`${id}: doctest=${mode} is not one of ${MODES.join(', ')} (no attribute = unit)`);
        continue;
      }
      if (JAVASCRIPT.has(block.language)) {
        problems.push(
          `${id}: a \`\`\`${block.language} block; write samples in TypeScript (\`\`\`ts), which is checked`,
        );
      } else if (TYPESCRIPT.has(block.language)) {
        docTests.push({ block, kind: 'typescript', mode, id });
      } else if (SHELL.has(block.language)) {
        const lines = block.code.split('\n');
        lines.forEach((line, index) => {
          const isConsole = block.language === 'console';
          if (isConsole && !line.startsWith('$ ')) return;
          for (const words of shellCommands(isConsole ? line.slice(2) : line)) {
            invocations.push({ id: `${file}:${block.line + 1 + index}`, words });
          }
        });
        if (block.language === 'console') docTests.push({ block, kind: 'console', mode, id });
      }
    }
  }
  return { docTests, invocations, problems };
}

/** File name of a sample's module: `docs-guides-x.md-L12.ts`. */
function moduleName(test: DocTest): string {
  return `${test.block.file.replaceAll('/', '-')}-L${test.block.line}.ts`;
}

/**
 * A sample's code with its relative import specifiers made absolute, relative to the guide's own
 * directory (the sample module itself is written elsewhere). Line numbers do not change.
 */
export function absoluteImports(code: string, guideDir: string): string {
  return code.replace(
    /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]+)\2/g,
    (_match, lead: string, quote: string, specifier: string) =>
      `${lead}${quote}${resolve(guideDir, specifier)}${quote}`,
  );
}

/**
 * Writes the TypeScript samples as ES modules into `dir` (with a package.json saying so) and
 * returns the path of each, keyed by doc-test id. Relative imports are resolved against the
 * guide's directory under `repoRoot`.
 */
export function writeSampleModules(
  repoRoot: string,
  tests: readonly DocTest[],
  dir: string,
): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  const paths = new Map<string, string>();
  for (const test of tests) {
    if (test.kind !== 'typescript') continue;
    const path = join(dir, moduleName(test));
    // `export {}` makes every sample a module even when it imports nothing (top-level await).
    const code = absoluteImports(test.block.code, dirname(join(repoRoot, test.block.file)));
    writeFileSync(path, `${code}export {};\n`);
    paths.set(test.id, path);
  }
  return paths;
}

/** One `$ sgv4 ...` line of a console block and the output shown after it. */
export interface ConsoleStep {
  /** Line in the guide. */
  readonly line: number;
  /** Arguments after the program name. */
  readonly args: readonly string[];
  /** The lines shown after the command, trailing blank lines removed. */
  readonly expected: string;
}

/**
 * The steps of a console transcript. Every `$ ` line must be one sgv4 invocation (the only
 * program doc-tests run); continuation lines are not supported.
 */
export function consoleSteps(
  block: FencedBlock,
  sgv4Arguments: (words: readonly string[]) => string[] | undefined,
): ConsoleStep[] {
  const steps: { line: number; args: string[]; output: string[] }[] = [];
  block.code
    .replace(/\n$/, '')
    .split('\n')
    .forEach((text, index) => {
      const line = block.line + 1 + index;
      if (text.startsWith('$ ')) {
        const commands = shellCommands(text.slice(2));
        const args = commands.length === 1 && commands[0] ? sgv4Arguments(commands[0]) : undefined;
        if (args === undefined) {
          throw new Error(`${block.file}:${line}: a console doc-test runs one sgv4 command per '$ ' line`);
        }
        steps.push({ line, args, output: [] });
      } else if (steps.length === 0) {
        throw new Error(`${block.file}:${line}: a console doc-test starts with a '$ sgv4 ...' line`);
      } else {
        steps[steps.length - 1]?.output.push(text);
      }
    });
  return steps.map((s) => ({ line: s.line, args: s.args, expected: normalizeOutput(s.output.join('\n')) }));
}

/** Output as compared: trailing spaces and trailing blank lines removed. */
export function normalizeOutput(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n+$/, '');
}
