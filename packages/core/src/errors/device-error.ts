/**
 * The device completed the command with a status other than GOOD.
 * @module
 */

import type { DecodedSense } from '../sense/decoded-sense.js';
import { SenseKey } from '../sense/sense-keys.js';
import { ScsiStatus, scsiStatusName } from '../sense/status-names.js';
import { ExitStatus, type ExitStatusCode } from './exit-status.js';
import { ResultCategory } from './result-category.js';
import { Sgv4Error, type Sgv4ErrorOptions } from './sgv4-error.js';

/**
 * The sg3_utils exit status for decoded sense data (lib/sg_lib.c `sg_err_category_sense`):
 * the sense key picks the category; ILLEGAL REQUEST splits into INVALID_OP (asc/ascq 20/00)
 * and LBA_OUT_OF_RANGE (21/00); ABORTED COMMAND with asc 0x10 is a PROTECTION error;
 * MEDIUM/HARDWARE ERROR and ILLEGAL REQUEST with a valid INFORMATION field get the
 * `_WITH_INFO` variants (sg_cmds_process_resp).
 */
export function exitStatusForSense(sense: DecodedSense): ExitStatusCode {
  const withInfo = sense.information !== undefined;
  switch (sense.senseKey) {
    case SenseKey.NO_SENSE:
      return ExitStatus.NO_SENSE;
    case SenseKey.RECOVERED_ERROR:
      return ExitStatus.RECOVERED;
    case SenseKey.NOT_READY:
      return ExitStatus.NOT_READY;
    case SenseKey.MEDIUM_ERROR:
    case SenseKey.HARDWARE_ERROR:
    case SenseKey.BLANK_CHECK:
      return withInfo ? ExitStatus.MEDIUM_HARD_WITH_INFO : ExitStatus.MEDIUM_HARD;
    case SenseKey.UNIT_ATTENTION:
      return ExitStatus.UNIT_ATTENTION;
    case SenseKey.ILLEGAL_REQUEST:
      if (sense.asc === 0x20 && sense.ascq === 0x00) return ExitStatus.INVALID_OP;
      if (sense.asc === 0x21 && sense.ascq === 0x00) return ExitStatus.LBA_OUT_OF_RANGE;
      return withInfo ? ExitStatus.ILLEGAL_REQ_WITH_INFO : ExitStatus.ILLEGAL_REQ;
    case SenseKey.DATA_PROTECT:
      return ExitStatus.DATA_PROTECT;
    case SenseKey.COPY_ABORTED:
      return ExitStatus.COPY_ABORTED;
    case SenseKey.ABORTED_COMMAND:
      return sense.asc === 0x10 ? ExitStatus.PROTECTION : ExitStatus.ABORTED_COMMAND;
    case SenseKey.MISCOMPARE:
      return ExitStatus.MISCOMPARE;
    default:
      return ExitStatus.SENSE;
  }
}

/**
 * The sg3_utils exit status for a SCSI status without usable sense data
 * (lib/sg_lib.c `sg_err_category3`): BUSY 26, RESERVATION CONFLICT 24, TASK SET FULL 27,
 * ACA ACTIVE 28, TASK ABORTED 29, CONDITION MET 25; CHECK CONDITION without sense is SENSE (98).
 */
export function exitStatusForScsiStatus(status: number): ExitStatusCode {
  switch (status) {
    case ScsiStatus.GOOD:
      return ExitStatus.CLEAN;
    case ScsiStatus.CONDITION_MET:
      return ExitStatus.CONDITION_MET;
    case ScsiStatus.BUSY:
      return ExitStatus.BUSY;
    case ScsiStatus.RESERVATION_CONFLICT:
      return ExitStatus.RES_CONFLICT;
    case ScsiStatus.TASK_SET_FULL:
      return ExitStatus.TASK_SET_FULL;
    case ScsiStatus.ACA_ACTIVE:
      return ExitStatus.ACA_ACTIVE;
    case ScsiStatus.TASK_ABORTED:
      return ExitStatus.TASK_ABORTED;
    case ScsiStatus.CHECK_CONDITION:
      return ExitStatus.SENSE;
    default:
      return ExitStatus.OTHER;
  }
}

/**
 * The logical unit returned a status other than GOOD (result category STATUS), usually
 * CHECK CONDITION with sense data (category SENSE). A CHECK CONDITION whose sense buffer is
 * empty is still a DeviceError, with `sense` undefined (python-scsi #133 crashed on that).
 *
 * Message: `CHECK CONDITION: Medium Error: Unrecovered read error, lba 0x1234` or `BUSY`.
 */
export class DeviceError extends Sgv4Error {
  /** The SCSI status byte. */
  readonly status: number;
  /** Its T10 name, e.g. `CHECK CONDITION`. */
  readonly statusName: string;
  /** The decoded sense data, when the device returned any. */
  readonly sense?: DecodedSense;
  /** SENSE when sense data is present, else STATUS. */
  readonly category: typeof ResultCategory.STATUS | typeof ResultCategory.SENSE;

  /**
   * `senseLine` is the one-line sense summary (see `formatSenseLine` in the sense area);
   * it is only used for the message.
   */
  constructor(status: number, sense?: DecodedSense, senseLine?: string, options: Sgv4ErrorOptions = {}) {
    const statusName = scsiStatusName(status);
    super(
      sense === undefined
        ? statusName
        : `${statusName}: ${senseLine ?? `${sense.senseKeyName}: ${sense.ascText}`}`,
      sense === undefined ? exitStatusForScsiStatus(status) : exitStatusForSense(sense),
      options,
    );
    this.status = status;
    this.statusName = statusName;
    if (sense !== undefined) this.sense = sense;
    this.category = sense === undefined ? ResultCategory.STATUS : ResultCategory.SENSE;
  }
}
