import { defineConfig } from 'vitest/config';
import { sourceAliases } from './vitest.shared';

// `pnpm test:unit` sets SGV4_TEST_TIER=unit: only the packages' unit projects, which need
// nothing beyond Node (vitest's --project filter cannot exclude two projects at once).
const unitOnly = process.env.SGV4_TEST_TIER === 'unit';

export default defineConfig({
  test: {
    projects: [
      // One project per package: its unit tests, run on the host.
      'packages/*/vitest.config.ts',
      // The documentation's checks: doc-tests of the guides, the generated CLI reference.
      'docs/vitest.config.ts',
      // The example programs' own checks (their runs are host and lab tests).
      'examples/vitest.config.ts',
      // The benchmark report's reading and rendering (the benchmarks themselves never run in tests).
      'bench/vitest.config.ts',
      ...(unitOnly ? [] : integrationProjects()),
    ],
  },
});

/** The projects that need more than Node: installed host programs, or the lab guest. */
function integrationProjects() {
  return [
    // The host project: tests that run on the host but need installed programs (QEMU
    // booting a lab guest, tgtd, libiscsi's tools, Chromium). `pnpm test:host` runs it;
    // `pnpm test:unit` never does, so unit tests pass on a machine without them.
    {
      resolve: { alias: sourceAliases },
      test: {
        name: 'host',
        include: [
          'packages/*/test/**/*.host.test.ts',
          'docs/test/**/*.host.test.ts',
          'examples/test/**/*.host.test.ts',
        ],
        pool: 'forks',
        testTimeout: 300_000,
        hookTimeout: 300_000,
      },
    },
    // The lab project: every test that needs a real Linux sg/bsg device.
    // `pnpm test:lab` runs it inside one QEMU guest boot (packages/lab).
    {
      resolve: { alias: sourceAliases },
      test: {
        name: 'lab',
        include: [
          'packages/*/test/**/*.lab.test.ts',
          'docs/test/**/*.lab.test.ts',
          'examples/test/**/*.lab.test.ts',
        ],
        pool: 'forks',
        // Under TCG emulation everything is several times slower than native.
        testTimeout: 120_000,
        hookTimeout: 120_000,
      },
    },
  ];
}
