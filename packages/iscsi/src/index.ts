/**
 * `@sgv4/iscsi`: iSCSI (RFC 7143) in pure TypeScript over `node:net`.
 *
 * The initiator logs in with text negotiation and CHAP, carries SCSI commands with their task
 * tags (ITT) and task attributes, flows data by immediate data, unsolicited Data-Out and R2T,
 * holds back on the CmdSN window, and sends task management functions for real. The PDU codec,
 * digests, negotiation and CHAP are pure and exported for tools and tests.
 * @module
 */

export * from './auth/chap.js';
export * from './digest/crc32c.js';
export * from './errors.js';
export * from './initiator/command-window.js';
export * from './initiator/connection.js';
export * from './initiator/data-out-plan.js';
export * from './initiator/login.js';
export * from './initiator/serial-number.js';
export * from './initiator/session.js';
export * from './initiator/target-address.js';
export * from './initiator/task-management.js';
export * from './pdu/ahs.js';
export * from './pdu/bhs-layouts.js';
export * from './pdu/data-buffer-view.js';
export * from './pdu/field-layout.js';
export * from './pdu/lun.js';
export * from './pdu/pdu-codec.js';
export * from './target/portal.js';
export * from './target/serve.js';
export * from './target/target-login.js';
export * from './target/target-session.js';
export * from './text/keys.js';
export * from './text/negotiation.js';
export * from './text/text-codec.js';
export * from './url/iscsi-url.js';
