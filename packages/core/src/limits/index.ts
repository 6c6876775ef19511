/**
 * Queue limits (issue 5): `struct queue_limits` of Linux 6.1, its defaults,
 * setters, the SCSI host derivation, presets, sysfs parsing and validation.
 * @module
 */
export * from './constants.js';
export * from './mask.js';
export * from './presets.js';
export * from './queue-limits.js';
export * from './scsi-host.js';
export * from './sysfs.js';
export * from './validate.js';
