/**
 * The scatterlist builder (issue 5): from a request's iovecs to the copy or
 * zero-copy decision, bios, the HBA scatterlist and its chained table, as
 * Linux 6.1 builds them; plus splitting of large transfers.
 * @module
 */
export * from './atapi.js';
export * from './bio-builder.js';
export * from './chain.js';
export * from './copy-decision.js';
export * from './iovec.js';
export * from './map-sg.js';
export * from './plan.js';
export * from './split.js';
export * from './transfer-rules.js';
