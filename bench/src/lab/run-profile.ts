/**
 * Runs, inside one lab guest, every lab suite of one device profile (`node
 * bench/dist/lab/run-profile.js <profile>`), one after the other. Each suite's own output goes
 * to stderr; stdout carries one JSON line for the report: the guest kernel, the scsi_debug
 * parameters in force and each suite's exit status and duration.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEVICE_PROFILES, type DeviceProfileName, scriptSuites } from '../script-suites.js';

const SCSI_DEBUG_PARAMETERS = '/sys/module/scsi_debug/parameters';

/** The scsi_debug parameters the guest runs with (name -> value), for the report. */
function scsiDebugParameters(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of ['delay', 'ndelay', 'dev_size_mb', 'sector_size', 'max_queue']) {
    try {
      values[name] = readFileSync(`${SCSI_DEBUG_PARAMETERS}/${name}`, 'utf8').trim();
    } catch {
      // not a parameter of this scsi_debug version
    }
  }
  return values;
}

function main(): number {
  const profile = process.argv[2] as DeviceProfileName | undefined;
  if (profile === undefined || !(profile in DEVICE_PROFILES)) {
    process.stderr.write(`run-profile: name one of ${Object.keys(DEVICE_PROFILES).join(', ')}\n`);
    return 1;
  }
  const results = process.env.SGV4_LAB_RESULTS;
  if (results === undefined || results === '') {
    process.stderr.write('run-profile: SGV4_LAB_RESULTS is not set (run it with sgv4 lab run)\n');
    return 1;
  }
  const distDir = fileURLToPath(new URL('../', import.meta.url));
  const suites = scriptSuites.filter((s) => s.where !== 'host' && s.where.lab === profile);
  const outcomes: { name: string; status: number | null; seconds: number }[] = [];
  for (const suite of suites) {
    process.stderr.write(`\n== ${suite.name} (profile ${profile})\n`);
    const start = performance.now();
    const run = spawnSync(process.execPath, [`${distDir}${suite.script}`], {
      // The suite's stdout joins stderr: this program's stdout is the report's summary line.
      stdio: ['ignore', process.stderr, process.stderr],
      env: { ...process.env, SGV4_BENCH_RESULTS: results },
    });
    outcomes.push({ name: suite.name, status: run.status, seconds: (performance.now() - start) / 1000 });
  }
  process.stdout.write(
    `${JSON.stringify({
      profile,
      kernel: release(),
      scsiDebug: scsiDebugParameters(),
      cpus: readdirSync('/sys/devices/system/cpu').filter((n) => /^cpu\d+$/.test(n)).length,
      suites: outcomes,
    })}\n`,
  );
  return outcomes.every((o) => o.status === 0) ? 0 : 1;
}

process.exitCode = main();
