/**
 * Submission checks: the header and CDB-length checks of sg, bsg and block SG_IO,
 * SCSI_IOCTL_SEND_COMMAND and CDROM_SEND_PACKET in Linux 6.1's order, with the command
 * filter and the data plan where the kernel applies them; and the sense part of the reply.
 * @module
 */
export * from './headers.js';
export * from './predict.js';
export * from './sense-reply.js';
export * from './submission-rules.js';
