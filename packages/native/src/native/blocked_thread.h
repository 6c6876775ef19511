// Threads that may block in SG_IO: created with every signal blocked.
#pragma once

namespace sgv4 {

/**
 * Starts a detached thread (256 KiB stack) running main(arg) with every signal blocked, so
 * process-directed signals go to threads that run JavaScript, never to one sitting in SG_IO
 * (an SG_IO interrupted by a signal can leave its command orphaned: sg_ioctl_common in
 * drivers/scsi/sg.c). The caller's own mask is restored before returning. 0 or an errno.
 */
int StartBlockedThread(void* (*main)(void*), void* arg);

}  // namespace sgv4
