/**
 * The peers of the lab benchmark, measured in the same boot: sg3_utils' sg_read (SG_IO in a
 * loop on one sg fd, QD1) and fio's sg engine (write()/poll()/read() on /dev/sg*, the
 * engine storage people use) at a given iodepth.
 * @module
 */
import { spawnSync } from 'node:child_process';
import type { Contender } from './measure.js';

const BLOCK = 512;

function runSgRead(device: string, bpt: number, mmap: boolean, commands: number): number {
  const run = spawnSync(
    'sg_read',
    [
      `if=${device}`,
      `bs=${BLOCK}`,
      `bpt=${bpt}`,
      `count=${commands * bpt}`,
      'time=1',
      ...(mmap ? ['mmap=1'] : []),
    ],
    { encoding: 'utf8' },
  );
  const out = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`sg_read failed (status ${run.status}): ${out}`);
  // sg_read prints "time to transfer data was N secs" on stderr.
  const secs = /was ([\d.]+) secs/.exec(out);
  if (secs?.[1] === undefined) throw new Error(`sg_read output not understood: ${out}`);
  return Number.parseFloat(secs[1]);
}

/** sg_read, QD1 (its own timing of the transfer loop; the command count adapts to the window). */
export function sgRead(device: string, bpt: number, mmap: boolean): Contender {
  let perSecond = 0;
  return {
    name: `sg_read ${(bpt * BLOCK) / 1024} KiB${mmap ? ' mmap' : ''} QD1`,
    bytes: bpt * BLOCK,
    async run(windowMs: number) {
      let commands = perSecond > 0 ? Math.max(50, Math.round((perSecond * windowMs) / 1000)) : 200;
      let seconds = runSgRead(device, bpt, mmap, commands);
      while (seconds < windowMs / 2000) {
        commands = Math.ceil(commands * Math.min(20, (windowMs / 1000 / Math.max(seconds, 0.001)) * 1.1));
        seconds = runSgRead(device, bpt, mmap, commands);
      }
      perSecond = commands / seconds;
      return { commands, seconds };
    },
  };
}

/**
 * fio --ioengine=sg random reads, `jobs` jobs of `iodepth` each (one fd each; sg takes 16 commands
 * per fd, so deeper queues need more jobs), IOPS summed (group_reporting). Terse v3: field 7 is
 * read IOPS, field 8 the read runtime (ms).
 */
export function fioSg(device: string, blockSize: number, iodepth: number, jobs = 1): Contender {
  return {
    name: `fio sg ${blockSize / 1024} KiB randread iodepth=${iodepth}${jobs === 1 ? '' : ` numjobs=${jobs}`}`,
    bytes: blockSize,
    async run(windowMs: number) {
      const run = spawnSync(
        'fio',
        [
          '--name=sgv4-bench',
          `--filename=${device}`,
          '--ioengine=sg',
          '--rw=randread',
          `--bs=${blockSize}`,
          `--iodepth=${iodepth}`,
          `--numjobs=${jobs}`,
          '--group_reporting',
          `--runtime=${Math.round(windowMs)}ms`,
          '--time_based',
          '--size=32m',
          '--output-format=terse',
          '--terse-version=3',
        ],
        { encoding: 'utf8' },
      );
      if (run.status !== 0) throw new Error(`fio failed (status ${run.status}): ${run.stdout}${run.stderr}`);
      const fields = run.stdout.trim().split('\n').at(-1)?.split(';') ?? [];
      const iops = Number(fields[7]);
      const runtimeMs = Number(fields[8]);
      if (!(iops > 0) || !(runtimeMs > 0)) throw new Error(`fio terse output not understood: ${run.stdout}`);
      return { commands: Math.round((iops * runtimeMs) / 1000), seconds: runtimeMs / 1000 };
    },
  };
}
