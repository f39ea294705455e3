/* Internal to the shared dict: a hook for tests that must reproduce a process dying in the
 * middle of an update. Not installed. */
#ifndef FO_SRC_SHMDICT_H
#define FO_SRC_SHMDICT_H

#include <stdint.h>

#include "fanout/shmdict.h"

/*
 * Leave the dict as a process killed part-way through an update would: take the lock, begin an
 * update (so lock-free readers see one running) and skew the entry count by skew, then return
 * with the lock still held. The caller is expected to die without unlocking.
 * Returns 0 or the negative code of taking the lock.
 */
int fo__shmdict_hold_mid_update(fo_shmdict *d, int64_t skew);

#endif /* FO_SRC_SHMDICT_H */
