import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared';

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'iscsi',
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.lab.test.ts', 'test/**/*.host.test.ts'],
  },
});
