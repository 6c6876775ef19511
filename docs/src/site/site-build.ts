/**
 * Building the typedoc site for a check: reuse `docs/site` when it is newer than everything it
 * is built from, otherwise run typedoc (`pnpm run docs` does the same) so the browser never
 * checks a stale site.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Directory names never looked into when dating the site's inputs. */
const SKIPPED = new Set(['node_modules', 'dist', 'build', 'test', 'site', 'screenshots', '.cache']);

/**
 * The newest modification time of the files under `path` (directories themselves are not
 * counted: building the packages touches them without changing any input).
 */
function newestMtime(path: string): number {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory() && (SKIPPED.has(entry.name) || entry.name.startsWith('build-'))) continue;
    newest = Math.max(newest, newestMtime(join(path, entry.name)));
  }
  return newest;
}

/**
 * The newest modification time among the site's inputs: every package's sources and
 * manifests, the guides (and what they embed), the README and typedoc's configuration.
 */
export function newestSiteInput(repoRoot: string): number {
  const packagesDir = join(repoRoot, 'packages');
  let newest = Math.max(
    newestMtime(join(repoRoot, 'typedoc.json')),
    newestMtime(join(repoRoot, 'README.md')),
    newestMtime(join(repoRoot, 'tsconfig.base.json')),
    newestMtime(join(repoRoot, 'docs', 'guides')),
    // A guide deleted or renamed changes the directory itself.
    statSync(join(repoRoot, 'docs', 'guides')).mtimeMs,
    newestMtime(join(repoRoot, 'docs', 'assets')),
    newestMtime(join(repoRoot, 'examples')),
  );
  for (const name of readdirSync(packagesDir))
    newest = Math.max(newest, newestMtime(join(packagesDir, name)));
  return newest;
}

/** How the site to check was obtained. */
export interface SiteBuild {
  /** The built site's directory. */
  readonly siteDir: string;
  /** true when typedoc ran now; false when the existing build was newer than every input. */
  readonly built: boolean;
  /** Time spent building, ms (0 when reused). */
  readonly buildMs: number;
}

/**
 * Makes sure `docs/site` is a build of the current tree, running typedoc when it is missing or
 * older than an input. Throws with typedoc's output when typedoc fails (warnings are errors).
 */
export function ensureFreshSite(repoRoot: string): SiteBuild {
  const siteDir = join(repoRoot, 'docs', 'site');
  const builtAt = newestMtime(join(siteDir, 'index.html'));
  if (builtAt > 0 && builtAt >= newestSiteInput(repoRoot)) return { siteDir, built: false, buildMs: 0 };
  const start = performance.now();
  const typedoc = join(repoRoot, 'node_modules', 'typedoc', 'bin', 'typedoc');
  const run = spawnSync(process.execPath, [typedoc], { cwd: repoRoot, encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(`typedoc failed (exit status ${run.status}):\n${run.stdout}${run.stderr}`);
  }
  return { siteDir, built: true, buildMs: performance.now() - start };
}
