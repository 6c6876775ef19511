/**
 * Task tags and attributes: per-nexus tag allocation (caller- or library-assigned), task
 * attribute codes per transport, and transport capabilities such as "cannot tag".
 * @module
 */
export {
  BSG_6_1_CAPABILITIES,
  SAS_SSP_CAPABILITIES,
  SG_V3_6_1_CAPABILITIES,
  SG_V4_DRIVER_CAPABILITIES,
  type TransportCapabilities,
} from './capabilities.js';
export {
  type AllocatedTag,
  type Nexus,
  nexusKey,
  TagAllocator,
  type TagAllocatorOptions,
  TagCollisionError,
  type TagPolicy,
  type TagRelease,
  TaskSetFullError,
  type UntaggedPolicy,
} from './tag-allocator.js';
export {
  type ScsiTransport,
  TASK_ATTRIBUTE_TRANSPORTS,
  TaskAttribute,
  taskAttributeCode,
  taskAttributeFromCode,
} from './task-attribute.js';
