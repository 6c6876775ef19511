/**
 * Type-checking the doc-tests (kept apart from the rest of the doc-test code so that running
 * samples, in the lab guest especially, never loads the TypeScript compiler).
 * @module
 */
import { join, relative } from 'node:path';
import ts from 'typescript';
import type { DocTest } from './doc-tests.js';

/**
 * Type-checks the sample modules written by {@link writeSampleModules} with the repository's
 * compiler options (tsconfig.base.json), `@sgv4/<name>` resolving to the package's sources.
 * Returns one message per error, placed at the guide's line.
 */
export function typeCheckSamples(
  repoRoot: string,
  tests: readonly DocTest[],
  paths: Map<string, string>,
): string[] {
  const configPath = join(repoRoot, 'tsconfig.base.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot, undefined, configPath);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    incremental: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    typeRoots: [join(repoRoot, 'node_modules', '@types')],
    paths: { '@sgv4/*': [join(repoRoot, 'packages', '*', 'src', 'index.ts')] },
  };
  const program = ts.createProgram([...paths.values()], options);
  const byPath = new Map([...paths].map(([id, path]) => [path, tests.find((t) => t.id === id) as DocTest]));
  const messages: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const file = diagnostic.file;
    const test = file ? byPath.get(file.fileName) : undefined;
    if (file && test && diagnostic.start !== undefined) {
      const { line } = file.getLineAndCharacterOfPosition(diagnostic.start);
      messages.push(`${test.block.file}:${test.block.line + 1 + line}: ${text}`);
    } else {
      const where = file ? relative(repoRoot, file.fileName) : 'compiler';
      messages.push(`${where}: ${text}`);
    }
  }
  return messages;
}
