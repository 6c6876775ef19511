/**
 * Tour step: transfer plans. Runs the Linux 6.1 mapping model on a few
 * requests that hit different kernel rules and prints each outcome.
 */
import { planTransfer, queueLimitsPreset, scatteredPageFrames, type TransferRequest } from '@sgv4/core';
import { printLine } from '../../framework/output.js';
import type { TourStep } from '../tour-step.js';

const scsiDebug = queueLimitsPreset('scsi-debug').limits;
const nvme = queueLimitsPreset('nvme-like').limits;
const kernelDefault = queueLimitsPreset('kernel-default').limits;

const CASES: readonly { label: string; request: TransferRequest }[] = [
  {
    label: 'sg, 64 KiB at 0x10004 with direct IO',
    request: {
      limits: scsiDebug,
      iface: 'sg',
      direction: 'from-device',
      iovecs: [{ address: 0x10004, length: 65536 }],
      sg: { allowDio: true, directIo: true },
    },
  },
  {
    label: 'sg, same buffer at 0x10002',
    request: {
      limits: scsiDebug,
      iface: 'sg',
      direction: 'from-device',
      iovecs: [{ address: 0x10002, length: 65536 }],
      sg: { allowDio: true, directIo: true },
    },
  },
  {
    label: 'block SG_IO, two iovecs with a gap, NVMe-like queue',
    request: {
      limits: nvme,
      iface: 'block',
      direction: 'to-device',
      iovecs: [
        { address: 0x1000, length: 2048 },
        { address: 0x8000, length: 4096 },
      ],
    },
  },
  {
    label: 'block SG_IO, 128 KiB on a default queue (max_hw_sectors 255)',
    request: {
      limits: kernelDefault,
      iface: 'block',
      direction: 'from-device',
      iovecs: [{ address: 0, length: 131072 }],
    },
  },
  {
    label: 'bsg, 1 MiB of scattered pages on scsi_debug',
    request: {
      limits: scsiDebug,
      iface: 'bsg',
      direction: 'from-device',
      iovecs: [{ address: 0x200000, length: 1 << 20 }],
      pageFrames: scatteredPageFrames,
    },
  },
];

export const planStep: TourStep = {
  id: 'plan',
  title: 'Transfer plans (what the kernel would do with a request)',
  run(io) {
    for (const { label, request } of CASES) {
      const plan = planTransfer(request);
      let outcome: string;
      if (plan.outcome === 'refused') outcome = `refused with ${plan.refusal?.errno}: ${plan.refusal?.rule}`;
      else if (plan.outcome === 'no-data') outcome = 'no data';
      else {
        const why = plan.copyReason ? ` (${plan.copyReason.rule})` : '';
        const dio =
          plan.sgDirectIo === undefined ? '' : `, SG_INFO_DIRECT_IO ${plan.sgDirectIo ? 'set' : 'clear'}`;
        outcome =
          `${plan.mode}${why}${dio}, ${plan.segments.length} segments, table ` +
          plan.table.chunks.map((c) => `${c.source}[${c.dataEntries}]`).join('->');
      }
      printLine(io, `${label}: ${outcome}`);
    }
  },
};
