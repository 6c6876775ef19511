/**
 * sg_io_hdr <-> the canonical request and response.
 * @module
 */
export * from './interface-rules.js';
export * from './request-from-v3.js';
export * from './request-to-v3.js';
export * from './result.js';
