/**
 * Which write data goes where (RFC 7143 §4.2.5.2, §11.3, §13.10-13.14): the unsolicited part
 * (immediate data in the SCSI Command PDU when ImmediateData=Yes, then unsolicited Data-Out
 * PDUs when InitialR2T=No, together at most FirstBurstLength), and for each R2T the
 * solicited Data-Out sequence. Every data segment is at most the target's
 * MaxRecvDataSegmentLength.
 * @module
 */

/** One Data-Out PDU: a range of the task's write buffer. */
export interface DataOutSegment {
  /** Buffer Offset. */
  readonly offset: number;
  /** DataSegmentLength. */
  readonly length: number;
  /** DataSN within the sequence (each sequence restarts at 0, RFC 7143 §11.7.5). */
  readonly dataSN: number;
  /** F bit: the last PDU of the sequence. */
  readonly final: boolean;
}

/** The negotiated values the plan depends on. */
export interface DataOutLimits {
  /** ImmediateData. */
  readonly immediateData: boolean;
  /** InitialR2T. */
  readonly initialR2T: boolean;
  /** FirstBurstLength. */
  readonly firstBurstLength: number;
  /** The target's MaxRecvDataSegmentLength. */
  readonly peerMaxRecvDataSegmentLength: number;
}

/** The unsolicited data of a write of `total` bytes. */
export interface UnsolicitedPlan {
  /** Bytes carried as immediate data in the SCSI Command PDU (from offset 0). */
  readonly immediate: number;
  /** Unsolicited Data-Out PDUs (TTT 0xffffffff) following the command. */
  readonly dataOut: readonly DataOutSegment[];
  /** Bytes the target must solicit with R2Ts (from offset `immediate + unsolicited`). */
  readonly solicited: number;
}

/** Splits `[offset, offset+length)` into one sequence of PDUs of at most `maxSegment` bytes. */
export function planSequence(offset: number, length: number, maxSegment: number): DataOutSegment[] {
  const out: DataOutSegment[] = [];
  let dataSN = 0;
  for (let at = 0; at < length; at += maxSegment) {
    const n = Math.min(maxSegment, length - at);
    out.push({ offset: offset + at, length: n, dataSN: dataSN++, final: at + n >= length });
  }
  return out;
}

/** The unsolicited part of a write (see the module note). */
export function planUnsolicited(total: number, limits: DataOutLimits): UnsolicitedPlan {
  const firstBurst = Math.min(limits.firstBurstLength, total);
  const immediate = limits.immediateData ? Math.min(firstBurst, limits.peerMaxRecvDataSegmentLength) : 0;
  const dataOut = limits.initialR2T
    ? []
    : planSequence(immediate, firstBurst - immediate, limits.peerMaxRecvDataSegmentLength);
  const unsolicited = immediate + dataOut.reduce((n, s) => n + s.length, 0);
  return { immediate, dataOut, solicited: total - unsolicited };
}
