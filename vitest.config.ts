import { defineConfig } from 'vitest/config';
import { sourceAliases } from './vitest.shared';

export default defineConfig({
  test: {
    projects: [
      // One project per package: its unit tests, run on the host.
      'packages/*/vitest.config.ts',
      // The lab project: every test that needs a real Linux sg/bsg device.
      // `pnpm test:lab` runs it inside one QEMU guest boot (packages/lab).
      {
        resolve: { alias: sourceAliases },
        test: {
          name: 'lab',
          include: ['packages/*/test/**/*.lab.test.ts'],
          pool: 'forks',
          // Under TCG emulation everything is several times slower than native.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
