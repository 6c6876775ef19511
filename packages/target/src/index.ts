/**
 * `@sgv4/target`: an embedded userspace SCSI disk, the default device when no
 * real one exists.
 *
 * Not built yet: this package is reserved by the architecture and exports nothing.
 * @module
 */
export {};
