/**
 * The conformance suite's fault knobs on scsi_debug (drivers/scsi/scsi_debug.c, Linux 6.1):
 * `ndelay` for latency (a response delay in ns, < 1 s; EBUSY while commands are queued, so it
 * is retried), `opts` bit 4 (SDEBUG_OPT_TIMEOUT: the every_nth-th command is never answered)
 * with `every_nth` (writing it rounds the command counter down to a multiple, tweak_cmnd_count,
 * so the n-th command from now is the one), and `opts` bit 2 (SDEBUG_OPT_MEDIUM_ERR: reads of
 * LBA 0x1234..+10, OPT_MEDIUM_ERR_ADDR / OPT_MEDIUM_ERR_NUM, fail with MEDIUM ERROR). Every
 * knob is restored to the value found.
 */
import { getScsiDebugParam, setScsiDebugParam } from '@sgv4/lab';
import type { FaultInjector } from '../conformance/target.js';

const OPT_MEDIUM_ERR = 0x2;
const OPT_TIMEOUT = 0x4;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Writes a latency knob, retrying while scsi_debug answers EBUSY (commands still queued). */
async function setBusy(name: string, value: number): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      setScsiDebugParam(name, value);
      return;
    } catch (error) {
      if (i > 200 || !String((error as Error).message).includes('EBUSY')) throw error;
      await sleep(25);
    }
  }
}

/** scsi_debug as a {@link FaultInjector}. */
export function scsiDebugFaults(): FaultInjector {
  const original = {
    delay: Number(getScsiDebugParam('delay')),
    ndelay: Number(getScsiDebugParam('ndelay')),
    opts: Number(getScsiDebugParam('opts')),
    everyNth: Number(getScsiDebugParam('every_nth')),
  };
  return {
    async latency(ms) {
      if (ms === 0) {
        await setBusy('ndelay', original.ndelay);
        await setBusy('delay', original.delay);
      } else {
        await setBusy('ndelay', Math.min(ms * 1_000_000, 999_999_999));
      }
    },
    async dropNth(n) {
      setScsiDebugParam('opts', original.opts | OPT_TIMEOUT);
      setScsiDebugParam('every_nth', n);
    },
    async mediumErrors() {
      setScsiDebugParam('opts', original.opts | OPT_MEDIUM_ERR);
      return { lba: 0x1234n, count: 10 };
    },
    async clear() {
      setScsiDebugParam('opts', original.opts);
      setScsiDebugParam('every_nth', original.everyNth);
      await this.latency(0);
    },
  };
}
