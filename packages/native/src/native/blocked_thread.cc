#include "blocked_thread.h"

#include <pthread.h>
#include <signal.h>

namespace sgv4 {

int StartBlockedThread(void* (*main)(void*), void* arg) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  // The new thread inherits the mask in force at pthread_create: block all, create, restore.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_t thread;
  const int result = pthread_create(&thread, &attr, main, arg);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  pthread_attr_destroy(&attr);
  return result;
}

}  // namespace sgv4
