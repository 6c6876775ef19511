/**
 * `@sgv4/lab`: real Linux sg and bsg devices on any machine (QEMU + Linux 6.1 + scsi_debug).
 *
 * Not built yet: exports nothing until the lab lands.
 * @module
 */
export {};
