/**
 * The sg reserved buffer (issue 5): building, SG_SET/GET_RESERVED_SIZE, mmap,
 * SG_FLAG_MMAP_IO and direct-IO admission, page rounding (Linux 6.1 sg.c).
 * @module
 */
export * from './admission.js';
export * from './page-round.js';
export * from './reserve-buffer.js';
