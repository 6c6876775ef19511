#!/usr/bin/env node
/**
 * `pnpm bench:report [--note TEXT] [--skip-host] [--skip-lab] [--profile NAME...] [--collect-only]`:
 * runs the host suites (`pnpm bench`'s benchmark.js suites and the host benchmark programs),
 * then every lab benchmark program in one guest boot per device profile, and writes
 * `bench/results/latest.json`, `docs/guides/benchmarks.md` and `docs/guides/benchmarks.svg` from
 * the results files this run wrote. `--collect-only` runs nothing and rebuilds the page from the
 * results files already there (keeping the machine description of the last run, and the last
 * report's figures for a suite that has no results file: each suite carries its own date).
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LabProgress, runInLab } from '@sgv4/lab';
import { DEVICE_PROFILES, type DeviceProfileName, scriptSuites } from '../script-suites.js';
import { suites as benchmarkJsSuites } from '../suites/index.js';
import { CHART_FILE, chartBars, renderBenchmarksPage } from './benchmarks-page.js';
import { peerChartSvg } from './peer-chart.js';
import {
  type BenchmarkReport,
  type LabBoot,
  type MachineInfo,
  REPORT_FILE,
  readResults,
} from './report-model.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const benchDist = fileURLToPath(new URL('../', import.meta.url));
const resultsDir = join(repoRoot, 'bench', 'results');
const guidesDir = join(repoRoot, 'docs', 'guides');

function say(text: string): void {
  process.stderr.write(`bench:report: ${text}\n`);
}

function machine(loadAtStart: number): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    hostKernel: release(),
    node: process.version,
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
  };
}

/** Runs a program to completion with its output on ours; true when it exits 0. */
function runProgram(args: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const run = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: repoRoot, env });
  return run.status === 0;
}

/** The summary line run-profile.js prints last on stdout. */
interface ProfileSummary {
  readonly kernel: string;
  readonly cpus: number;
  readonly scsiDebug: Record<string, string>;
}

async function runLabProfile(profile: DeviceProfileName, failures: string[]): Promise<LabBoot> {
  say(`lab boot for device profile '${profile}'`);
  const run = await runInLab({
    command: [process.execPath, join(benchDist, 'lab', 'run-profile.js'), profile],
    scsiDebug: DEVICE_PROFILES[profile].scsiDebug,
    cwd: repoRoot,
    resultsDir,
    stdout: null,
    stderr: process.stderr,
    timeoutMs: 1_800_000,
    progress: new LabProgress(process.stderr),
  });
  const lastLine = run.stdout.toString('utf8').trim().split('\n').pop() ?? '';
  let summary: ProfileSummary | undefined;
  try {
    summary = JSON.parse(lastLine) as ProfileSummary;
  } catch {
    summary = undefined;
  }
  if (run.status !== 0) failures.push(`lab profile ${profile} (exit status ${run.status})`);
  return {
    profile,
    accel: run.accel,
    guestKernel: summary?.kernel ?? 'unknown',
    guestCpus: summary?.cpus ?? 0,
    scsiDebug: summary?.scsiDebug ?? {},
    bootSeconds: run.bootMs / 1000,
    status: run.status,
  };
}

function previousReport(): BenchmarkReport | undefined {
  const path = join(resultsDir, REPORT_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BenchmarkReport;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      note: { type: 'string' },
      'skip-host': { type: 'boolean' },
      'skip-lab': { type: 'boolean' },
      profile: { type: 'string', multiple: true },
      'collect-only': { type: 'boolean' },
    },
    strict: true,
  });
  const profiles = (values.profile ?? Object.keys(DEVICE_PROFILES)) as DeviceProfileName[];
  const unknown = profiles.filter((p) => !(p in DEVICE_PROFILES));
  if (unknown.length > 0) {
    say(`no device profile ${unknown.join(', ')} (have: ${Object.keys(DEVICE_PROFILES).join(', ')})`);
    return 1;
  }
  mkdirSync(resultsDir, { recursive: true });
  const started = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  const collectOnly = values['collect-only'] === true;
  const failures: string[] = [];
  const labBoots: LabBoot[] = [];

  if (!collectOnly && values['skip-host'] !== true) {
    say('host suites (benchmark.js)');
    if (!runProgram([join(benchDist, 'run-all.js')])) failures.push('host benchmark.js suites');
    for (const suite of scriptSuites.filter((s) => s.where === 'host')) {
      say(`host program ${suite.name}`);
      if (!runProgram([join(benchDist, suite.script)], { ...process.env, SGV4_BENCH_RESULTS: resultsDir }))
        failures.push(suite.name);
    }
  }
  if (!collectOnly && values['skip-lab'] !== true) {
    for (const profile of profiles) {
      if (scriptSuites.some((s) => s.where !== 'host' && s.where.lab === profile)) {
        labBoots.push(await runLabProfile(profile, failures));
      }
    }
  }

  const previous = collectOnly ? previousReport() : undefined;
  const fresh = readResults(resultsDir, collectOnly ? undefined : started);
  const { skipped, unreadable } = fresh;
  // Collecting after re-running one suite must not drop the others: they keep the last report's
  // figures (with their own dates) unless a results file replaces them.
  const kept = (previous?.suites ?? []).filter((p) => !fresh.suites.some((s) => s.name === p.name));
  const suites = [...fresh.suites, ...kept].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const expected = [...benchmarkJsSuites.map((s) => s.name), ...scriptSuites.map((s) => s.name)];
  const missing = [
    ...expected
      .filter((name) => !suites.some((s) => s.name === name))
      .map((n) => `${n}: no results from this run`),
    ...unreadable.map((n) => `${n}: not a results file this report can read`),
    ...skipped.map((n) => `${n}: older than this run, left out`),
    ...failures.map((f) => `${f}: failed (see the run's output)`),
  ];
  const report: BenchmarkReport = {
    date: previous?.date ?? started.toISOString(),
    ...(values.note !== undefined ? { note: values.note } : previous?.note ? { note: previous.note } : {}),
    machine: previous?.machine ?? machine(loadAtStart),
    labBoots: previous?.labBoots ?? labBoots,
    suites,
    goals: suites.flatMap((s) => s.goals),
    missing,
  };
  writeFileSync(join(resultsDir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(guidesDir, 'benchmarks.md'), renderBenchmarksPage(report));
  writeFileSync(
    join(guidesDir, CHART_FILE),
    peerChartSvg(chartBars(report), `sgv4 against its peers (${report.date.slice(0, 10)})`),
  );
  const missed = report.goals.filter((g) => !g.met).length;
  say(
    `${suites.length} suite(s), ${report.goals.length} goal(s), ${missed} missed; wrote bench/results/${REPORT_FILE}, ` +
      `docs/guides/benchmarks.md and docs/guides/${CHART_FILE}` +
      (failures.length > 0 ? `; FAILED: ${failures.join(', ')}` : ''),
  );
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
