/**
 * @file shmdict.h
 * A dictionary shared by a process and its children: string keys of bounded length, 64-bit
 * integer values, a fixed capacity, all in one shared-memory region made at creation.
 *
 * Threads and processes. Create the dict, then fork(): every child uses it through its copy of
 * the handle, and every process (the parent too) calls fo_shmdict_destroy on its copy. All calls
 * except create and destroy are safe from any number of threads and processes at once, and in a
 * child after fork(); none may be called from a signal handler.
 * Updates take a process-shared robust mutex. A process that dies while holding it (killed,
 * crashed) never wedges the others: the next process to take the lock repairs what an unfinished
 * update may have left (the entry count) and carries on. Lookups and counts take no lock when no
 * update is running, and fall back to the lock (and its repair) when one seems stuck.
 * Values are exact: every fo_shmdict_add is applied once, under the lock.
 */
#ifndef FANOUT_SHMDICT_H
#define FANOUT_SHMDICT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "fanout/fanout.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest key_max accepted: keys are stored inline in fixed-size slots, so this bounds how
 * much a slot costs (key_max + 25 bytes, rounded up to 8). */
#define FO_SHMDICT_KEY_MAX 255

/** Largest capacity accepted (entries). The table has twice as many slots as capacity. */
#define FO_SHMDICT_CAPACITY_MAX (1u << 24)

/** A fixed-capacity string-to-int64 map in shared memory. */
typedef struct fo_shmdict fo_shmdict;

/**
 * Create an empty dict for up to capacity entries whose keys are at most key_max bytes long.
 * Its memory (about 2 * capacity * (key_max + 25) bytes) is reserved now, in an anonymous
 * shared region (fo_shm_create), and is the same in children forked afterwards.
 * @return 0, -EINVAL (NULL d, capacity 0 or above FO_SHMDICT_CAPACITY_MAX, key_max 0 or above
 *         FO_SHMDICT_KEY_MAX), -ENOMEM (also when the region would be larger than the
 *         machine's physical memory: refused before reserving it), -ENOSPC (no room for the
 *         region), -EOPNOTSUPP (the system has no robust process-shared mutexes, so a process
 *         dying while it holds the dict's lock could not be recovered from: the dict is refused
 *         rather than offered without that guarantee; seen under user-mode emulators such as
 *         qemu-riscv64), or another negative errno from the mutex set-up.
 */
int fo_shmdict_create(fo_shmdict **d, size_t capacity, size_t key_max);

/** Unmap the dict in this process; the memory goes when the last process lets go of it.
 * NULL is a no-op. */
void fo_shmdict_destroy(fo_shmdict *d);

/** The capacity given at creation (entries); 0 for NULL. */
size_t fo_shmdict_capacity(const fo_shmdict *d);

/**
 * Look a key up.
 * @return 0 (*value set), FO_ENOTFOUND, -EINVAL (NULL d, key or value), FO_ETOOBIG (key longer
 *         than key_max: it cannot be there), -ENOTRECOVERABLE (the lock was lost for good).
 */
int fo_shmdict_get(fo_shmdict *d, const char *key, int64_t *value);

/**
 * Set a key's value, adding the key if it is missing.
 * @return 0, -EINVAL (NULL d or key), FO_ETOOBIG (key longer than key_max), FO_EFULL (a new key
 *         and capacity entries already; nothing changes), -ENOTRECOVERABLE.
 */
int fo_shmdict_set(fo_shmdict *d, const char *key, int64_t value);

/**
 * Add delta to a key's value atomically, adding the key with value delta if it is missing (as
 * Python's d[k] = d.get(k, 0) + delta, without the race). Concurrent adds are all applied.
 * @param result receives the new value; may be NULL.
 * @return 0, -EINVAL (NULL d or key), FO_ETOOBIG (key too long), FO_EFULL (a new key and no
 *         room), -ERANGE (the sum overflows int64: nothing changes), -ENOTRECOVERABLE.
 */
int fo_shmdict_add(fo_shmdict *d, const char *key, int64_t delta, int64_t *result);

/**
 * Remove a key.
 * @return 0, FO_ENOTFOUND, -EINVAL (NULL d or key), FO_ETOOBIG (key too long),
 *         -ENOTRECOVERABLE.
 */
int fo_shmdict_delete(fo_shmdict *d, const char *key);

/**
 * The number of entries.
 * @return the count (>= 0), -EINVAL (NULL d), -ENOTRECOVERABLE.
 */
int fo_shmdict_count(fo_shmdict *d);

/** Called once per entry by fo_shmdict_foreach; return 0 to go on, anything else to stop. */
typedef int (*fo_shmdict_fn)(const char *key, int64_t value, void *arg);

/**
 * Call fn for every entry of a snapshot taken at one instant (under the lock, into memory from
 * the allocator hook), in no particular order. fn runs without the lock held, so it may call
 * any fo_shmdict function, and updates it makes are not in the snapshot.
 * @return 0, or the first non-zero value fn returned; -EINVAL (NULL d or fn), -ENOMEM (never
 *         for an empty dict, which needs no snapshot), -ENOTRECOVERABLE.
 */
int fo_shmdict_foreach(fo_shmdict *d, fo_shmdict_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* FANOUT_SHMDICT_H */
