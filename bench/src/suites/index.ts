/** Every benchmark suite `pnpm bench` runs, in order. Each capability adds its suite here. */
import type { BenchSuite } from '../runner.js';
import { cdbSuite } from './cdb.js';
import { permissionsSuite } from './permissions.js';
import { scatterlistSuites } from './scatterlist.js';
import { senseSuite } from './sense.js';
import { sgv4CodecSuite } from './sgv4-codec.js';

export const suites: readonly BenchSuite[] = [
  permissionsSuite,
  sgv4CodecSuite,
  cdbSuite,
  senseSuite,
  ...scatterlistSuites,
];
