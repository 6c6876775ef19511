/** Every benchmark suite `pnpm bench` runs, in order. Each capability adds its suite here. */
import type { BenchSuite } from '../runner.js';
import { permissionsSuite } from './permissions.js';

export const suites: readonly BenchSuite[] = [permissionsSuite];
