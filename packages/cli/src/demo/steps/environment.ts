/**
 * Tour step: what this machine offers for SCSI pass-through — the kernel, and
 * the sg and bsg device nodes it exposes (none on a kernel without SCSI, in
 * which case the lab provides real ones).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { printLine } from '../../framework/output.js';
import type { TourStep } from '../tour-step.js';

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** The SCSI generic (sg) and bsg device nodes present on this machine. */
export function localScsiNodes(): { sg: string[]; bsg: string[]; sgDriverVersion: string | undefined } {
  const sg = listDir('/dev')
    .filter((n) => /^sg\d+$/.test(n))
    .map((n) => `/dev/${n}`);
  const bsg = listDir('/dev/bsg').map((n) => `/dev/bsg/${n}`);
  let sgDriverVersion: string | undefined;
  try {
    sgDriverVersion = readFileSync('/proc/scsi/sg/version', 'utf8').trim();
  } catch {
    sgDriverVersion = undefined;
  }
  return { sg, bsg, sgDriverVersion };
}

export const environmentStep: TourStep = {
  id: 'environment',
  title: 'This machine',
  run(io) {
    const nodes = localScsiNodes();
    printLine(io, `Node ${process.version} on ${process.platform}/${process.arch}, kernel ${release()}`);
    printLine(io, `sg driver: ${nodes.sgDriverVersion ?? 'not loaded (no /proc/scsi/sg/version)'}`);
    printLine(io, `sg nodes:  ${nodes.sg.length > 0 ? nodes.sg.join(' ') : 'none'}`);
    printLine(io, `bsg nodes: ${nodes.bsg.length > 0 ? nodes.bsg.join(' ') : 'none'}`);
    if (nodes.sg.length === 0 && nodes.bsg.length === 0) {
      printLine(
        io,
        'No SCSI devices here: the lab (sgv4 lab run) boots Linux 6.1 with scsi_debug to get real ones.',
      );
    }
  },
};
