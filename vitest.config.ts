import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';
import { sourceAliases } from './vitest.shared';

// `pnpm test:unit` sets SGV4_TEST_TIER=unit: only the packages' unit projects, which need
// nothing beyond Node (vitest's --project filter cannot exclude two projects at once).
const unitOnly = process.env.SGV4_TEST_TIER === 'unit';

/** Where the host tests are. */
const HOST_INCLUDE = [
  'packages/*/test/**/*.host.test.ts',
  'docs/test/**/*.host.test.ts',
  'examples/test/**/*.host.test.ts',
];

/**
 * Host tests with tight time limits against another process: tgt's 1 s NOP-In ping, a 300 ms
 * keepalive, a 200 ms command timeout, 1 s and 5 s waits for a peer's answer or output. Run
 * beside Chromium or QEMU on two cores they could miss them for reasons of load alone, so
 * they run one at a time after the rest (all of them together take a few seconds).
 */
const HOST_TIMING_FILES = [
  'packages/iscsi/test/initiator/initiator-recovery.host.test.ts',
  'packages/iscsi/test/initiator/initiator-tgt.host.test.ts',
  'packages/bsg/test/iscsi/iscsi-tgt.host.test.ts',
  'packages/cli/test/commands/target-serve.host.test.ts',
];

export default defineConfig({
  test: {
    // At least two test files at once. Vitest's default (one less than the cores) is ONE on
    // this project's 2-core CI machine, yet the unit and host files spend much of their time
    // waiting (on child processes, sockets, QEMU, Chromium), not computing: two workers cut
    // the unit tier from about 71 s to 44 s. The projects that must run alone say so below.
    maxWorkers: Math.max(2, availableParallelism() - 1),
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
    //
    // Its files run two at a time (the longest ones wait on Chromium, libiscsi's suite and QEMU
    // guests, each on its own ports, directories and QEMU instances), except those in
    // HOST_TIMING_FILES: they run afterwards, one at a time, in the `host-timing` project.
    {
      resolve: { alias: sourceAliases },
      test: {
        name: 'host',
        include: HOST_INCLUDE,
        exclude: [...configDefaults.exclude, ...HOST_TIMING_FILES],
        pool: 'forks',
        testTimeout: 300_000,
        hookTimeout: 300_000,
      },
    },
    {
      resolve: { alias: sourceAliases },
      test: {
        name: 'host-timing',
        include: HOST_TIMING_FILES,
        pool: 'forks',
        maxWorkers: 1,
        // After the `host` project's files, so nothing else loads the machine meanwhile.
        sequence: { groupOrder: 1 },
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
        // One file at a time (they share the guest's global state: scsi_debug's knobs, sg's
        // parameters, the devices), whichever config runs the project: see vitest.lab.config.ts.
        maxWorkers: 1,
        sequence: { groupOrder: 2 },
        // Under TCG emulation everything is several times slower than native.
        testTimeout: 120_000,
        hookTimeout: 120_000,
      },
    },
  ];
}
