/**
 * The CLI reference in the guides is what the CLI itself prints: the command table in
 * docs/guides/cli.md and the page docs/guides/commands.md are regenerated from the command
 * tree and each command's `--help`, and must equal the committed files (`pnpm docs:cli`).
 */
import { fileURLToPath } from 'node:url';
import { rootCommand, runCli } from '@sgv4/cli';
import { describe, expect, it } from 'vitest';
import { cliCommandEntries, cliReferenceFiles } from '../src/cli/cli-reference.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const FIX = 'out of date: run `pnpm build && pnpm docs:cli` and commit the result';

describe('CLI reference', () => {
  it('lists every command of the tree, each with the usage line of its own --help', async () => {
    const entries = await cliCommandEntries(rootCommand, runCli);
    const count = (c: typeof rootCommand): number =>
      1 + (c.subcommands ?? []).reduce((n, s) => n + count(s), 0);
    expect(entries.length).toBe(count(rootCommand));
    for (const e of entries) expect(e.usage.startsWith(['sgv4', ...e.path].join(' '))).toBe(true);
  });

  it('the command table in docs/guides/cli.md matches the CLI', async () => {
    const { guide } = await cliReferenceFiles(repoRoot, rootCommand, runCli);
    expect(guide.actual, `docs/guides/cli.md ${FIX}`).toBe(guide.expected);
  });

  it('docs/guides/commands.md matches the CLI', async () => {
    const { reference } = await cliReferenceFiles(repoRoot, rootCommand, runCli);
    expect(reference.actual, `docs/guides/commands.md ${FIX}`).toBe(reference.expected);
  });
});
