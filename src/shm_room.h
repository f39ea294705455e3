/* Room for a shared region, checked before anything is reserved. A memfd's file system and a
 * shared anonymous mapping have no limit but memory: without this check, one oversized request
 * makes fallocate take every free page until the kernel's out-of-memory killer ends processes,
 * the caller's and everyone else's. */
#ifndef FO_SRC_SHM_ROOM_H
#define FO_SRC_SHM_ROOM_H

#include <stddef.h>

/*
 * 0 when size bytes may fit; -EFBIG when fd is not -1 and size is above what an off_t holds;
 * -ENOMEM when size is above the machine's physical memory (a region
 * that can never be held, whatever else is running); -ENOSPC when fd is not -1 and the file
 * system behind it has a size limit and less than size bytes free. A system that does not tell
 * its memory or the file system's room passes that check. Reserves nothing; a request that passes
 * can still fail in the reservation itself, which is what that is for.
 */
int fo__shm_room(int fd, size_t size);

#endif /* FO_SRC_SHM_ROOM_H */
