/**
 * The benchmark report on crafted results files: both kinds are read into one shape, stale
 * and unknown files are named, and the page and chart show every goal and peer comparison.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chartBars, renderBenchmarksPage } from '../src/report/benchmarks-page.js';
import { axisMaximum, peerChartSvg } from '../src/report/peer-chart.js';
import { type BenchmarkReport, isPeer, readResults } from '../src/report/report-model.js';
import type { SuiteResult } from '../src/runner.js';
import type { ScriptSuiteResult } from '../src/script-suites.js';

const benchmarkJs: SuiteResult = {
  suite: 'codec',
  description: 'encode against a raw fill',
  baseline: 'raw fill',
  date: '2026-01-01T00:00:00.000Z',
  environment: { node: 'v20', kernel: '6.1.0', cpu: 'cpu' },
  cases: [
    { name: 'raw fill', opsPerSecond: 100, rmePercent: 1, samples: 20, ratioToBaseline: 1 },
    {
      name: 'encode',
      opsPerSecond: 40,
      rmePercent: 2.5,
      samples: 20,
      ratioToBaseline: 0.4,
      goal: 0.3,
      goalMet: true,
    },
  ],
};

const program: ScriptSuiteResult = {
  suite: 'native-vs-sg-read',
  kernel: '6.1.0-57-amd64',
  ratios: [
    { path: 'promise sg 4 KiB', peer: 'sg_read 4 KiB', ratio: 0.8, metric: 'IOPS' },
    { path: 'promise sg 4 KiB', peer: 'floor: event-loop turn', ratio: 0.5 },
  ],
  goals: [
    {
      goal: 'promise >= 0.9x sg_read',
      ratio: 0.8,
      min: 0.9,
      met: false,
      path: 'promise sg 4 KiB',
      peer: 'sg_read 4 KiB',
    },
  ],
};

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function resultsDir(files: Record<string, unknown>): string {
  dir = mkdtempSync(join(tmpdir(), 'sgv4-bench-report-'));
  for (const [name, value] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));
  }
  return dir;
}

describe('readResults', () => {
  it('reads both kinds of results files into comparisons and goals', () => {
    const { suites, skipped, unreadable } = readResults(
      resultsDir({
        'codec.json': benchmarkJs,
        'native-vs-sg-read.json': program,
        'latest.json': {},
        'x.json': '{',
      }),
    );
    expect(skipped).toEqual([]);
    expect(unreadable).toEqual(['x.json']);
    expect(suites.map((s) => [s.name, s.where])).toEqual([
      ['codec', 'host'],
      ['native-vs-sg-read', 'lab:overhead'],
    ]);
    expect(suites[0]?.comparisons).toEqual([
      { case: 'encode', against: 'raw fill', ratio: 0.4, kind: 'floor', rmePercent: 2.5 },
    ]);
    expect(suites[0]?.goals).toEqual([
      {
        suite: 'codec',
        goal: 'encode >= 0.3x raw fill',
        ratio: 0.4,
        min: 0.3,
        met: true,
        case: 'encode',
        against: 'raw fill',
      },
    ]);
    expect(suites[1]?.comparisons.map((c) => c.kind)).toEqual(['peer', 'floor']);
    expect(suites[1]?.goals[0]).toMatchObject({
      met: false,
      case: 'promise sg 4 KiB',
      against: 'sg_read 4 KiB',
    });
  });

  it('leaves out files older than the run', () => {
    const d = resultsDir({ 'codec.json': benchmarkJs });
    utimesSync(join(d, 'codec.json'), new Date('2020-01-01'), new Date('2020-01-01'));
    expect(readResults(d, new Date('2021-01-01'))).toEqual({
      suites: [],
      skipped: ['codec.json'],
      unreadable: [],
    });
  });

  it('tells peer programs from floors by name', () => {
    expect(['sg_read 4 KiB', 'sgp_dd', 'fio: sg engine', 'iscsi-perf QD16', 'tgtd'].every(isPeer)).toBe(true);
    expect(['raw fill', 'sg_readish', 'floor: sg_read-like'].some(isPeer)).toBe(false);
  });
});

describe('benchmarks page and chart', () => {
  const { suites } = readResults(
    resultsDir({ 'codec.json': benchmarkJs, 'native-vs-sg-read.json': program }),
  );
  const report: BenchmarkReport = {
    date: '2026-01-01T00:00:00.000Z',
    note: 'shared machine',
    machine: {
      cpu: 'AMD EPYC',
      cpus: 2,
      memoryGiB: 24,
      hostKernel: '6.18',
      node: 'v20',
      loadAverage: { start: 1, end: 2 },
    },
    labBoots: [
      {
        profile: 'overhead',
        accel: 'tcg',
        guestKernel: '6.1.0-57-amd64',
        guestCpus: 2,
        scsiDebug: { delay: '0' },
        bootSeconds: 9.5,
        status: 0,
      },
    ],
    suites,
    goals: suites.flatMap((s) => s.goals),
    missing: ['sense: no results from this run'],
  };

  it('lists the run, every goal and every suite', () => {
    const page = renderBenchmarksPage(report);
    expect(page).toMatch(/^---\ntitle: Benchmarks\ngroup: Evidence\n---\n/);
    expect(page).toContain('| note | shared machine |');
    expect(page).toContain(
      '| lab boot `overhead` | Linux 6.1.0-57-amd64 under QEMU (TCG), 2 vCPUs, scsi_debug delay=0; boot 9.5 s |',
    );
    expect(page).toContain('| codec | encode >= 0.3x raw fill | 0.40x | 0.30x | met |');
    expect(page).toContain('| native-vs-sg-read | promise >= 0.9x sg_read | 0.80x | 0.90x | **missed** |');
    expect(page).toContain('| promise sg 4 KiB | sg_read 4 KiB (peer) | 0.80x IOPS |');
    expect(page).toContain('| encode | raw fill | 0.40x | 2.5% |');
    expect(page).toContain('- sense: no results from this run');
    expect(page).toContain('](./benchmarks.svg)');
  });

  it('draws one bar per peer comparison, its goal attached', () => {
    const bars = chartBars(report);
    expect(bars.map((b) => [b.comparison.against, b.goal?.min])).toEqual([['sg_read 4 KiB', 0.9]]);
    const svg = peerChartSvg(bars, 'title <&>');
    expect(svg).toContain('<title id="chart-title">title &lt;&amp;&gt;</title>');
    expect(svg).toContain('native-vs-sg-read: promise sg 4 KiB  vs  sg_read 4 KiB');
    expect(svg).toContain('fill="#c0392b"'); // goal missed
    expect(svg).toContain('>0.80x</text>');
    expect(peerChartSvg([], 't')).toContain('no comparison with a peer program in this run');
  });

  it('picks a round axis maximum', () => {
    expect([0.5, 1, 1.3, 1.9, 2.9, 4, 7, 12].map(axisMaximum)).toEqual([1.2, 1.2, 1.5, 2, 3, 5, 10, 20]);
  });
});
