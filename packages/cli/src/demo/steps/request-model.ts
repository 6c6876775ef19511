/**
 * Tour step: the request model. Builds an INQUIRY CDB from its field table, turns a request
 * into a struct sg_io_v4 header, encodes it to the 160 bytes the kernel reads, decodes them
 * back, and allocates task tags on a nexus of a transport that can tag and of 6.1 bsg.
 */
import {
  BSG_6_1_CAPABILITIES,
  buildCdb,
  decodeCdb,
  decodeSgIoV4,
  encodeSgIoV4,
  requestToSgIoV4,
  SAS_SSP_CAPABILITIES,
  TagAllocator,
  TaskManagementFunction,
  TaskSet,
  tmfCode,
  tmfResponseName,
} from '@sgv4/core';
import { printLine } from '../../framework/output.js';
import type { TourStep } from '../tour-step.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export const requestModelStep: TourStep = {
  id: 'request-model',
  title: 'The request model: CDB tables, sg_io_v4, tags and task management',
  run(io) {
    const cdb = buildCdb('inquiry', { evpd: 1, pageCode: 0x83, allocationLength: 252 });
    const decoded = decodeCdb(cdb);
    // decodeCdb's result is discriminated by the command's key: narrowed, the fields are typed.
    if (decoded.key !== 'inquiry') throw new Error(`INQUIRY decoded as ${decoded.spec.name}`);
    printLine(io, `buildCdb('inquiry', {evpd: 1, pageCode: 0x83, allocationLength: 252}) -> ${hex(cdb)}`);
    printLine(
      io,
      `  decoded back as ${decoded.spec.name}: pageCode=0x${decoded.fields.pageCode.toString(16)}`,
    );

    const header = requestToSgIoV4(
      { cdb, dataIn: new Uint8Array(252), timeoutMs: 5000, queueAt: 'tail', attribute: 'SIMPLE' },
      { cdb: 0x7f00_0000_1000n, sense: 0x7f00_0000_2000n, dataIn: 0x7f00_0000_3000n },
    );
    const bytes = encodeSgIoV4(header);
    printLine(
      io,
      `requestToSgIoV4 -> ${bytes.length}-byte struct sg_io_v4, first 32 bytes: ${hex(bytes.subarray(0, 32))}`,
    );
    const back = decodeSgIoV4(bytes);
    printLine(
      io,
      `  decodeSgIoV4: guard=0x${back.guard.toString(16)} requestLen=${back.requestLen} dinXferLen=${back.dinXferLen}` +
        ` timeout=${back.timeout} flags=0x${back.flags.toString(16)} (BSG_FLAG_Q_AT_TAIL)`,
    );

    const sas = new TagAllocator({
      nexus: { initiator: 'host0', target: '0:0:0', lun: 0n },
      queueDepth: 4,
      transport: SAS_SSP_CAPABILITIES,
    });
    const tags = [sas.allocate(), sas.allocate()].map((t) => t.tag);
    printLine(io, `SAS SSP nexus: library-assigned tags ${tags.join(', ')} (on the wire)`);
    const bsg = new TagAllocator({
      nexus: { initiator: 'host0', target: '0:0:0', lun: 0n },
      queueDepth: 4,
      transport: BSG_6_1_CAPABILITIES,
    });
    printLine(
      io,
      `6.1 bsg nexus: tag ${bsg.allocate().tag} is a software tag (onWire=false): ${BSG_6_1_CAPABILITIES.note}`,
    );

    const set = new TaskSet({ transport: SAS_SSP_CAPABILITIES, queueDepth: 4, policy: 'caller' });
    const nexus = { initiator: 'host0', target: '0:0:0', lun: 0n };
    const task = set.submit(nexus, { tag: 7n });
    set.issue(task);
    set.timeOut(task);
    let reuse = 'accepted';
    try {
      set.submit(nexus, { tag: 7n });
    } catch (error) {
      reuse = `refused (${(error as Error).message})`;
    }
    printLine(io, `task 7 timed out; reusing tag 7: ${reuse}`);
    const outcome = set.applyTmf(TaskManagementFunction.ABORT_TASK, nexus, 7n);
    printLine(
      io,
      `ABORT TASK (SAS code 0x${tmfCode(TaskManagementFunction.ABORT_TASK, 'sas').toString(16)}) -> ` +
        `${tmfResponseName(outcome.response)}, task state ${task.state}; tag 7 free again: ${
          set.submit(nexus, { tag: 7n }).tag === 7n
        }`,
    );
  },
};
