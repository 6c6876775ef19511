/**
 * `@sgv4/bsg`: the device API over `/dev/bsg/*` and `/dev/sg*` (typed,
 * promise-based SCSI requests on pluggable transports).
 *
 * Not built yet: this package is reserved by the architecture and exports nothing.
 * @module
 */
export {};
