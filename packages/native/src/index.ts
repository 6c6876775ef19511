/**
 * `@sgv4/native`: the Node-API addon for the Linux sg and bsg drivers.
 *
 * Not built yet: exports nothing until the addon lands.
 * @module
 */
export {};
