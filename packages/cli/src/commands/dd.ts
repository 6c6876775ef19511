/**
 * `sgv4 dd if=SRC of=DST ...`: copy blocks between SCSI devices and files like sg_dd, through
 * the device API, with a queue depth and a transfer mode (indirect, direct IO, mmap-ed IO).
 */
import type { TransferMode } from '@sgv4/bsg';
import { type CopyProgress, runCopy } from '../dd/copy.js';
import { type DdEndpoint, ddTarget, openDeviceEndpoint, openFileEndpoint } from '../dd/endpoint.js';
import { parseDdOperands } from '../dd/operands.js';
import { startProgress } from '../dd/progress.js';
import type { Command } from '../framework/command.js';
import { printJson } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';

const MODES: Readonly<Record<string, TransferMode>> = { indirect: 'indirect', dio: 'direct', mmap: 'mmap' };

/**
 * Opens one end. An input device is opened read-only, except sg nodes and transport URLs:
 * an sg fd needs O_RDWR for the write()/read() queue and the mmap-ed reserve (sg_dd opens sg
 * inputs O_RDWR too).
 */
async function openEnd(
  name: string,
  forWrite: boolean,
  mode: TransferMode,
  qd: number,
  bpt: number,
): Promise<DdEndpoint> {
  const target = ddTarget(name);
  if (target === 'file') return openFileEndpoint(name, forWrite);
  return openDeviceEndpoint(name, {
    mode,
    readOnly: !forWrite && target !== 'sg' && target !== 'url',
    target,
    qd,
    bpt,
  });
}

export const ddCommand: Command = {
  name: 'dd',
  summary: 'copy blocks between devices and files (like sg_dd), with --qd and --mode indirect|dio|mmap',
  usage:
    'if=SRC of=DST [bs=N] [bpt=N] [count=N] [skip=N] [seek=N] [--qd N] [--mode indirect|dio|mmap] [--json]',
  details: [
    "Operands as sg_dd: bs= is the logical block size (default: the device's; it must match a device's),",
    'bpt= blocks per transfer (default 128), count=, skip=, seek= in blocks of bs. SRC and DST are SCSI',
    'devices (sg, bsg or block nodes, emu:...; driven with READ/WRITE commands through @sgv4/bsg) or files',
    '(/dev/null, /dev/zero, regular files, - for stdin/stdout). Sizes take k, m, g (1024) or kB, MB, GB.',
    '--qd N keeps N transfers in flight (default 1); --mode dio asks for direct IO (sg: SG_FLAG_DIRECT_IO,',
    'which needs allow_dio=1, else the driver copies and the final report counts it; bsg and block map',
    'aligned buffers directly anyway); --mode mmap moves the data through mmap-ed sg reserved buffers',
    '(one per slot; sg only, on the input side if it is sg, else the output side).',
    'On a terminal a progress bar appears for runs over two seconds. The report goes to stderr:',
    '  N+M records in / N+M records out / time to transfer data: S secs at R MB/sec, I IOPS',
    '(MB = 10^6 bytes as sg_dd; IOPS = transfers per second, each one READ and/or one WRITE command).',
    '--json (stdout): {input, output, bs, bpt, count, skip, seek, qd, mode, recordsIn, recordsOut, bytes,',
    'transfers, commands, seconds, mbPerSec, iops, dioIncomplete}',
    'Example: sgv4 dd if=/dev/sg0 of=/dev/null bs=512 bpt=8 count=100000 --qd 16',
  ].join('\n'),
  json: true,
  positionals: { min: 2, max: 7 },
  options: {
    qd: { type: 'string', valueName: 'N', description: 'transfers in flight at once (default 1)' },
    mode: { type: 'string', valueName: 'MODE', description: 'indirect (default), dio or mmap' },
  },
  async run(invocation, io) {
    const ops = parseDdOperands(invocation.positionals);
    const qd = invocation.integer('qd', { min: 1, max: 4096 }, 1) ?? 1;
    const modeWord = invocation.choice('mode', Object.keys(MODES), 'indirect') ?? 'indirect';
    const mode = MODES[modeWord] as TransferMode;
    const input = await openEnd(ops.input, false, mode, qd, ops.bpt);
    let output: DdEndpoint | undefined;
    try {
      output = await openEnd(ops.output, true, mode, qd, ops.bpt);
      if (input.kind === 'file' && output.kind === 'file' && mode !== 'indirect') {
        throw new UsageError(`--mode ${modeWord} needs a SCSI device on one side`);
      }
      const deviceBs = input.blockSize ?? output.blockSize;
      if (
        input.blockSize !== undefined &&
        output.blockSize !== undefined &&
        input.blockSize !== output.blockSize
      ) {
        throw new UsageError(
          `the block sizes differ: ${ops.input} has ${input.blockSize}, ${ops.output} ${output.blockSize}`,
        );
      }
      const bs = ops.bs ?? deviceBs ?? 512;
      if (deviceBs !== undefined && bs !== deviceBs) {
        throw new UsageError(
          `bs=${bs} does not match the device block size ${deviceBs} (use bpt= for larger transfers)`,
        );
      }
      const available = input.blocks?.(bs);
      let count = ops.count;
      if (count === undefined) {
        if (available === undefined)
          throw new UsageError(`count= is required: the size of ${ops.input} is unknown`);
        count = Math.max(0, Number(available) - ops.skip);
      } else if (available !== undefined && input.kind === 'device' && BigInt(ops.skip + count) > available) {
        throw new UsageError(
          `skip=${ops.skip} count=${count} goes past the end of ${ops.input} (${available} blocks)`,
        );
      }
      const outBlocks = output.kind === 'device' ? output.blocks?.(bs) : undefined;
      if (outBlocks !== undefined && BigInt(ops.seek + count) > outBlocks) {
        throw new UsageError(
          `seek=${ops.seek} count=${count} goes past the end of ${ops.output} (${outBlocks} blocks)`,
        );
      }
      let mappedFrom: DdEndpoint | undefined;
      if (mode === 'mmap') {
        mappedFrom = input.mmap ? input : output.mmap ? output : undefined;
        if (mappedFrom === undefined) throw new UsageError('--mode mmap needs an sg device on one side');
      }
      const progress: CopyProgress = {
        recordsIn: 0,
        partialIn: 0,
        recordsOut: 0,
        bytes: 0,
        total: count * bs,
        transfers: 0,
        shortInput: false,
      };
      const started = performance.now();
      const stop = startProgress(io.stderr, progress, started);
      let failure: unknown;
      try {
        await runCopy(
          input,
          output,
          {
            bs,
            bpt: ops.bpt,
            blocks: count,
            skip: ops.skip,
            seek: ops.seek,
            qd,
            slots: Math.max(qd, input.slots ?? 0, output.slots ?? 0),
            ...(mappedFrom ? { mappedFrom } : {}),
            bufferFrom: input.kind === 'device' ? input : output,
          },
          progress,
        );
      } catch (error) {
        failure = error;
      } finally {
        stop();
      }
      const seconds = (performance.now() - started) / 1000;
      const mbPerSec = seconds > 0 ? progress.bytes / 1e6 / seconds : 0;
      const iops = seconds > 0 ? progress.transfers / seconds : 0;
      const dioIncomplete = input.dioIncomplete + output.dioIncomplete;
      if (invocation.json && failure === undefined) {
        printJson(io, {
          input: ops.input,
          output: ops.output,
          bs,
          bpt: ops.bpt,
          count,
          skip: ops.skip,
          seek: ops.seek,
          qd,
          mode: modeWord,
          recordsIn: progress.recordsIn,
          recordsOut: progress.recordsOut,
          bytes: progress.bytes,
          transfers: progress.transfers,
          commands: input.commands + output.commands,
          seconds,
          mbPerSec,
          iops,
          dioIncomplete,
        });
      } else if (!invocation.json) {
        io.stderr.write(`${progress.recordsIn}+${progress.partialIn} records in\n`);
        io.stderr.write(`${progress.recordsOut}+0 records out\n`);
        if (dioIncomplete > 0)
          io.stderr.write(`>> Direct IO requested but incomplete ${dioIncomplete} times\n`);
        if (failure === undefined) {
          io.stderr.write(
            `time to transfer data: ${seconds.toFixed(6)} secs at ${mbPerSec.toFixed(2)} MB/sec, ${iops.toFixed(0)} IOPS\n`,
          );
        }
      }
      if (failure !== undefined) throw failure;
      return 0;
    } finally {
      await output?.close();
      await input.close();
    }
  },
};
