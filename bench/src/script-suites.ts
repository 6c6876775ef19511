/**
 * The benchmark programs that are not benchmark.js suites: each runs a peer (sg_read, sg_dd,
 * sgp_dd, fio's sg engine, iscsi-perf, tgt...) and this project's paths in ONE process, and
 * writes `<results>/<name>.json` with ratios measured in that run. `pnpm bench:report` runs
 * every entry here: host entries on the host, lab entries inside one guest boot per device
 * profile (all entries of a profile share the boot). Adding a suite = adding one entry.
 *
 * A suite program finds its results directory in `SGV4_BENCH_RESULTS` (in the guest this is
 * also `SGV4_LAB_RESULTS`, the writable share) and its results file follows
 * {@link ScriptSuiteResult}.
 * @module
 */

/** How scsi_debug is loaded for one lab boot, and why. */
export interface DeviceProfile {
  /** Module parameters (`sgv4 lab run --scsi-debug`), merged over the lab's defaults. */
  readonly scsiDebug: Readonly<Record<string, number | string>>;
  /** What the profile stands for, for the report. */
  readonly description: string;
}

/** The device profiles lab suites choose from. */
export const DEVICE_PROFILES = {
  /** No response delay: what is measured is the pass-through path's own cost. */
  overhead: {
    scsiDebug: { delay: 0 },
    description: 'scsi_debug answers in the submitting thread (delay=0): the cost of the path itself',
  },
  /** SSD-like latency, where keeping many commands in flight pays off. */
  ssd: {
    scsiDebug: { ndelay: 100_000 },
    description: 'scsi_debug answers after 100 µs (ndelay=100000), like an SSD: queue depth matters',
  },
  /**
   * A large virtual disk for copies long enough to time (the store wraps every 64 MiB), answering
   * at once; the suite switches to ndelay=100000 itself, so both latencies are compared in one boot.
   */
  copy: {
    scsiDebug: { delay: 0, virtual_gb: 8 },
    description:
      'scsi_debug with an 8 GiB virtual capacity, delay=0 then ndelay=100000 (100 µs) in the same boot: copies with sg_dd, sgp_dd and sgv4 dd',
  },
} as const satisfies Readonly<Record<string, DeviceProfile>>;

/** Name of a {@link DEVICE_PROFILES} entry. */
export type DeviceProfileName = keyof typeof DEVICE_PROFILES;

/** One benchmark program. */
export interface ScriptSuite {
  /** Results file name (`<name>.json`), also the suite's name in the report. */
  readonly name: string;
  /** The program, relative to bench/dist (`lab/native-vs-sg-read.js`). */
  readonly script: string;
  /** Where it runs: on the host, or in a lab guest with the named device profile. */
  readonly where: 'host' | { readonly lab: DeviceProfileName };
  /** What is compared with what. */
  readonly description: string;
}

/** Every benchmark program `pnpm bench:report` runs, in order. */
export const scriptSuites: readonly ScriptSuite[] = [
  {
    name: 'iscsi',
    script: 'iscsi/iscsi-vs-peers.js',
    where: 'host',
    description:
      'iSCSI over 127.0.0.1, 4 KiB random reads: the iscsi:// transport (Device) and the initiator session under it ' +
      "against libiscsi's iscsi-perf, both to tgt; iscsi-perf against the portal serving the embedded target vs against tgt",
  },
  {
    name: 'native-vs-sg-read',
    script: 'lab/native-vs-sg-read.js',
    where: { lab: 'overhead' },
    description:
      "@sgv4/native's paths (sync and promise, one-off and prepared, QD1 and QD16; sg's write/read queue, " +
      "bsg SG_IO on addon threads, the mmap-ed reserve) against sg3_utils' sg_read and fio's sg engine, " +
      'under scsi_debug delay=0 and ndelay=100000 set in the same boot',
  },
  {
    name: 'ring-vs-peers',
    script: 'lab/ring-vs-peers.js',
    where: { lab: 'overhead' },
    description:
      'The SCSI ring (shared-memory SQ/CQ; sg: writev/readv on a pool of fds, bsg: N blocking SG_IO threads) at QD 1, 16 ' +
      "and 64 against fio's sg engine at the same iodepths, sg_read and the plain promise path, 4 KiB random reads, " +
      'under scsi_debug delay=0 and ndelay=100000 set in the same boot',
  },
  {
    name: 'dd-vs-sg-dd',
    script: 'lab/dd-vs-sg-dd.js',
    where: { lab: 'copy' },
    description:
      "sgv4 dd (the device API) against sg3_utils' sg_dd at queue depth 1 and sgp_dd thr=4 at 16, reading /dev/sg0 " +
      'to /dev/null at 4 KiB and 512 KiB per command, with scsi_debug at delay=0 and at ndelay=100000',
  },
];

/** One comparison in a results file: this project's path against a peer or a floor. */
export interface ScriptSuiteRatio {
  /** This project's case (`promise write/poll/read sg 4 KiB`). */
  readonly path: string;
  /** What it is compared with (`sg_read 4 KiB`): a peer program or a floor. */
  readonly peer: string;
  /** path's throughput / peer's throughput, both measured in this run (> 1: faster). */
  readonly ratio: number;
  /** What was divided (`IOPS`, `MB/s`), when not obvious. */
  readonly metric?: string;
  /** Overrides the report's guess (by program name) of whether `peer` is a peer program or a floor. */
  readonly kind?: 'peer' | 'floor';
}

/** A goal the suite's issue set, with the ratio measured for it. */
export interface ScriptSuiteGoal {
  /** The goal in words (`fastest promise path >= 0.9x sg_read IOPS at 4 KiB QD1`). */
  readonly goal: string;
  readonly ratio: number;
  /** The smallest ratio that meets it. */
  readonly min: number;
  readonly met: boolean;
  /** The comparison it was measured on (its `path` and `peer` in `ratios`), for the chart. */
  readonly path?: string;
  readonly peer?: string;
}

/** What a script suite writes (other fields, such as raw measurements, are kept but not read). */
export interface ScriptSuiteResult {
  readonly suite: string;
  readonly description?: string;
  /** ISO date of the run (the file's modification time when absent). */
  readonly date?: string;
  /** `uname -r` where it ran. */
  readonly kernel?: string;
  readonly ratios?: readonly ScriptSuiteRatio[];
  readonly goals?: readonly ScriptSuiteGoal[];
}
