/**
 * SCSI task attributes (SAM-6 8.6) and how each transport encodes them (Linux 6.1 headers: include/linux/usb/uas.h, include/scsi/fc/fc_fcp.h, include/scsi/libsas.h,
 * include/scsi/iscsi_proto.h, include/uapi/linux/virtio_scsi.h, include/scsi/scsi_status.h
 * for the SPI queue-tag messages, include/target/target_core_base.h for LIO).
 * @module
 */
import { InvalidFieldError } from '../errors/invalid-field-error.js';

/** The four SAM task attributes. */
export const TaskAttribute = {
  SIMPLE: 'SIMPLE',
  ORDERED: 'ORDERED',
  HEAD_OF_QUEUE: 'HEAD_OF_QUEUE',
  ACA: 'ACA',
} as const;

/** One of the {@link TaskAttribute} values. */
export type TaskAttribute = (typeof TaskAttribute)[keyof typeof TaskAttribute];

/** Transports whose task attribute and TMF codes sgv4 knows. */
export type ScsiTransport = 'sas' | 'uas' | 'fcp' | 'iscsi' | 'virtio-scsi' | 'spi' | 'srp' | 'lio';

/** Transports that encode task attributes (SRP uses the SAS codes in its IU, listed as `srp`). */
export const TASK_ATTRIBUTE_TRANSPORTS: readonly ScsiTransport[] = [
  'sas',
  'uas',
  'fcp',
  'iscsi',
  'virtio-scsi',
  'spi',
  'srp',
  'lio',
];

/**
 * Codes by transport. SAS SSP, UAS, FCP, SRP and libsas share 0/1/2/4 (SIMPLE/HOQ/ORDERED/ACA);
 * iSCSI ATTR is 1/3/2/4 (0 = untagged); virtio-scsi VIRTIO_SCSI_S_* is 0/2/1/3; the SPI
 * queue-tag messages (and LIO's TCM_*_TAG) are 0x20/0x21/0x22/0x24.
 */
const CODES: Readonly<Record<ScsiTransport, Readonly<Record<TaskAttribute, number>>>> = {
  sas: { SIMPLE: 0, HEAD_OF_QUEUE: 1, ORDERED: 2, ACA: 4 },
  uas: { SIMPLE: 0, HEAD_OF_QUEUE: 1, ORDERED: 2, ACA: 4 },
  fcp: { SIMPLE: 0, HEAD_OF_QUEUE: 1, ORDERED: 2, ACA: 4 },
  srp: { SIMPLE: 0, HEAD_OF_QUEUE: 1, ORDERED: 2, ACA: 4 },
  iscsi: { SIMPLE: 1, HEAD_OF_QUEUE: 3, ORDERED: 2, ACA: 4 },
  'virtio-scsi': { SIMPLE: 0, HEAD_OF_QUEUE: 2, ORDERED: 1, ACA: 3 },
  spi: { SIMPLE: 0x20, HEAD_OF_QUEUE: 0x21, ORDERED: 0x22, ACA: 0x24 },
  lio: { SIMPLE: 0x20, HEAD_OF_QUEUE: 0x21, ORDERED: 0x22, ACA: 0x24 },
};

/** The wire code of `attribute` on `transport`. */
export function taskAttributeCode(attribute: TaskAttribute, transport: ScsiTransport): number {
  const table = CODES[transport];
  if (table === undefined)
    throw new InvalidFieldError(
      'transport',
      `must be one of ${TASK_ATTRIBUTE_TRANSPORTS.join(', ')}`,
      transport,
    );
  const code = table[attribute];
  if (code === undefined) {
    throw new InvalidFieldError(
      'attribute',
      `must be one of ${Object.keys(TaskAttribute).join(', ')}`,
      attribute,
    );
  }
  return code;
}

/** The attribute a transport code stands for; InvalidFieldError for codes the transport does not define. */
export function taskAttributeFromCode(code: number, transport: ScsiTransport): TaskAttribute {
  const table = CODES[transport];
  const hit = table && (Object.entries(table) as [TaskAttribute, number][]).find(([, c]) => c === code);
  if (hit === undefined) {
    throw new InvalidFieldError('attribute', `is not a ${transport} task attribute code`, code);
  }
  return hit[0];
}
