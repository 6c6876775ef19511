#!/usr/bin/env node
/**
 * `pnpm docs:cli`: regenerates the command table in docs/guides/cli.md and the page
 * docs/guides/commands.md from the built CLI (run `pnpm build` first).
 * @module
 */
import { fileURLToPath } from 'node:url';
import { rootCommand, runCli } from '@sgv4/cli';
import { writeCliReference } from './cli-reference.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const written = await writeCliReference(repoRoot, rootCommand, runCli);
console.log(written.length === 0 ? 'docs:cli: up to date' : `docs:cli: wrote ${written.join(', ')}`);
