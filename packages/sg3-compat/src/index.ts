/**
 * `@sgv4/sg3-compat`: runs sgv3 (`sg_io_hdr`) code on sgv4 requests.
 *
 * Not built yet: this package is reserved by the architecture and exports nothing.
 * @module
 */
export {};
