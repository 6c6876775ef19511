/**
 * The root config's `lab` project alone, for `pnpm test:lab` inside the guest. Loading the
 * root config makes vitest load every package's vitest.config.ts too, which costs tens of
 * seconds under TCG; this file takes the `lab` project definition from the root config
 * (so there is one definition) and nothing else.
 *
 * Test files run one at a time: they share one guest kernel, and scsi_debug's fault knobs,
 * sg's module parameters and the devices themselves are global state that a file running
 * alongside would see changing under it. And they share one worker (`isolate: false`):
 * a fresh worker per file re-imports the packages under test, which costs more under TCG
 * than all the tests themselves.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import rootConfig from '../../vitest.config';

function isLabProject(project: unknown): project is TestProjectInlineConfiguration {
  return (
    typeof project === 'object' &&
    project !== null &&
    (project as TestProjectInlineConfiguration).test?.name === 'lab'
  );
}

const lab = rootConfig.test?.projects?.find(isLabProject);
if (!lab) throw new Error("vitest.config.ts defines no inline project named 'lab'");

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: { fileParallelism: false, projects: [{ ...lab, test: { ...lab.test, isolate: false } }] },
});
