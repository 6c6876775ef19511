import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared';

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'native',
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.lab.test.ts', 'test/**/*.host.test.ts'],
    // The addon is loaded in these tests: a crash must not take a worker thread pool down.
    pool: 'forks',
  },
});
