import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared';

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'bsg',
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.lab.test.ts', 'test/**/*.host.test.ts'],
    // The native addon is loaded by the kernel transports: a crash must not take a thread pool down.
    pool: 'forks',
  },
});
