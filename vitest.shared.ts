// Shared vitest settings: tests import workspace packages by name and run
// against their TypeScript sources, so no build is needed between edits.
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));

const workspacePackages = ['core', 'native', 'bsg', 'sg3-compat', 'target', 'iscsi', 'lab', 'cli'];

/** `@sgv4/<name>` -> `packages/<name>/src/index.ts`. */
export const sourceAliases: Record<string, string> = Object.fromEntries(
  workspacePackages.map((name) => [`@sgv4/${name}`, `${packagesDir}${name}/src/index.ts`]),
);
