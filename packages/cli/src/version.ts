/** The `sgv4` version, read from this package's package.json. */
import { readFileSync } from 'node:fs';

/** The version of `@sgv4/cli` (and of the `sgv4` command). */
export const cliVersion: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
