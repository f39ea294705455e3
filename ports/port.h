/*
 * The port contract: what the portable core (src/) asks of the operating system that differs
 * between systems, and, at the end, the plain POSIX calls the core makes itself.
 *
 * A port is a set of whole files under ports/<name>/, chosen by `./configure --with-port=NAME`
 * and an AM_CONDITIONAL in Makefile.am; the core never tests the operating system with #ifdef.
 * Files under ports/common/ are compiled for every port. Two ports exist:
 *   linux  POSIX message queues, shm_open/memfd, prctl(PR_SET_PDEATHSIG), affinity and cgroup
 *          aware CPU counts.
 *   posix  for C libraries without mq_open: plain POSIX calls only.
 *
 * Layering: a port uses only the base module below it (src/base/base_internal.h: the allocator
 * hook, deadlines, fault points) and this header; it never calls into the modules above it. The
 * core reaches a port only through the functions declared here.
 *
 * Each function below has a paragraph saying what a port must guarantee. Unless a paragraph says
 * otherwise, a port function is thread-safe, async-signal-unsafe, may be called in a child after
 * fork(), allocates nothing (or only through the allocator hook in src/base/base_internal.h) and
 * reports failure as a negative errno. Modules add their part of the contract here as they arrive.
 *
 * Fault points: a port writes each call that creates a queue (mq_open, socketpair) or a shared
 * region (memfd_create, shm_open, an anonymous shared mmap) as
 * `fo__fault_at(FO__FAULT_MQ or _SHM) ? <failure, errno set> : call(...)` (src/base/base_internal.h).
 * In the library as built for use that is the constant 0 and vanishes; in the test copy of the
 * library (FO_FAULT_INJECTION) the failure-injection tests make those calls fail in turn, so every
 * error path after them runs under test.
 */
#ifndef FO_PORTS_PORT_H
#define FO_PORTS_PORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------------------------------------------
 * CPUs. fo_cpu_count() in src/cpu/cpu.c takes the smallest non-zero answer of the three.
 */

/*
 * fo__port_cpus_online: CPUs currently online in the system.
 * Returns the count (>= 1), or 0 when the system cannot tell. Never fails otherwise.
 */
int fo__port_cpus_online(void);

/*
 * fo__port_cpus_affinity: CPUs this process may be scheduled on (its affinity mask), however
 * many CPUs the system has (no fixed 1024-CPU set).
 * Returns the count (>= 1), or 0 when the system has no affinity masks or the mask cannot be
 * read.
 */
int fo__port_cpus_affinity(void);

/*
 * fo__port_cpus_quota: the CPU bandwidth this process is allowed by a resource controller
 * (Linux cgroups), as whole CPUs rounded up: a quota of 1.5 CPUs gives 2.
 * Returns the count (>= 1), or 0 when there is no quota or it cannot be read. Must not block
 * for long: it reads a few small files at most.
 */
int fo__port_cpus_quota(void);

/* ------------------------------------------------------------------------------------------------
 * Message queues: the transport under fo_mq (src/ipc/queue.c). Deadlines are absolute nanoseconds on
 * CLOCK_MONOTONIC, FO__FOREVER for none (src/base/base_internal.h); a port converts them for the calls it
 * makes and retries EINTR and early wake-ups with the time left, so a deadline bounds the whole
 * call. Messages are whole: a receiver gets exactly one message as it was sent, or nothing.
 * Messages from one sender are received in the order sent; no other ordering is promised.
 */

/* One queue as seen by one process. The core embeds it in fo_mq; the port fills it.
 * Both descriptors work with poll(2), so a waiter can watch a queue and other descriptors at once
 * (the process pool watches its "done" queue and its workers' pipes): recv_fd reports POLLIN when
 * a message may be waiting, send_fd POLLOUT when one may fit. Either is a hint, since another
 * process may act first: the receive or send that follows passes a deadline already due.
 * (linux: a message queue descriptor is a file descriptor that polls; posix: socket ends.) */
typedef struct fo__port_mq {
  int send_fd;     /* descriptor producers send on */
  int recv_fd;     /* descriptor consumers receive on (may equal send_fd) */
  size_t msg_size; /* largest message the queue takes, as granted */
  unsigned depth;  /* messages the queue holds before a send blocks, as granted (posix: a hint) */
} fo__port_mq;

/* fo__port_mq_create flags. */
#define FO__PORT_MQ_CLAMP 1u /* shrink a request above the system's limits instead of refusing */

/*
 * fo__port_mq_create: a new, empty queue for messages of up to msg_size bytes (>= 1) holding
 * depth (>= 1) messages. The queue has no name left in any file system once this returns (a
 * POSIX queue is created under an unpredictable name with O_EXCL and mode 0600 and unlinked at
 * once), its descriptors are close-on-exec, and it survives fork(): every process that holds the
 * descriptors may send and receive, and the queue goes away when the last one closes them.
 * A request above the system's limits is clamped to them with FO__PORT_MQ_CLAMP, otherwise
 * refused: FO_EMQLIMIT on linux (message size or depth above /proc/sys/fs/mqueue/msgsize_max or
 * msg_max, or queues_max reached), -EMSGSIZE on posix (msg_size above FO_MQ_SOCK_MSG_MAX). A full
 * per-user queue budget (RLIMIT_MSGQUEUE) is FO_EMQCOUNT, told apart from a full descriptor table
 * (-EMFILE). Returns 0 or a negative code; on failure nothing is left open.
 */
int fo__port_mq_create(fo__port_mq *q, size_t msg_size, unsigned depth, unsigned flags);

/*
 * fo__port_mq_send: append one message of len (<= q->msg_size) bytes, blocking while the queue is
 * full until the deadline. Returns 0, -ETIMEDOUT (deadline passed; a passed deadline still sends
 * when there is room), FO_ETOOBIG (len above what the system takes), or another negative errno.
 * Never raises SIGPIPE.
 */
int fo__port_mq_send(const fo__port_mq *q, const void *msg, size_t len, int64_t deadline);

/*
 * fo__port_mq_send_end: append an end-of-stream marker, which takes a place in the queue like a
 * message and is waited for like one. A marker is received after every message its sender sent
 * before it (linux: markers have a lower priority than messages, so they are received once no
 * message is queued; posix: in order). Returns as fo__port_mq_send().
 */
int fo__port_mq_send_end(const fo__port_mq *q, int64_t deadline);

/*
 * fo__port_mq_recv: take the oldest message into buf, whose capacity cap is at least q->msg_size,
 * blocking while the queue is empty until the deadline. Exactly one of several concurrent
 * receivers gets each message (or marker). Returns the message length (>= 0), FO_EEOF (the next
 * entry was an end-of-stream marker, now taken), -ETIMEDOUT, or another negative errno.
 */
int fo__port_mq_recv(const fo__port_mq *q, void *buf, size_t cap, int64_t deadline);

/* fo__port_mq_close: close this process's descriptors of the queue; other processes keep theirs.
 * Safe on a zeroed or already closed struct (descriptors < 0 are skipped). */
void fo__port_mq_close(fo__port_mq *q);

/* ------------------------------------------------------------------------------------------------
 * Shared memory: the part of fo_shm (src/ipc/shm.c) that differs between systems. Named regions use
 * POSIX shm_open in the core; anonymous regions and space reservation come from here.
 */

/*
 * fo__port_shm_anon: map size (>= 1) bytes of zero-filled memory shared with every process forked
 * afterwards (MAP_SHARED), leaving no name behind in /dev/shm or anywhere else (with memfd, not
 * even if the process is killed during the call; the shm_open fallback is named for the two
 * system calls between shm_open and shm_unlink). Its backing store is reserved before this returns,
 * so a short /dev/shm (or tmpfs) is an error here (-ENOSPC or -ENOMEM), never a SIGBUS on first
 * touch. linux: memfd_create (or shm_open with an unpredictable name, O_EXCL, unlinked at once)
 * plus fallocate; posix: mmap(MAP_SHARED | MAP_ANONYMOUS), where the system reserves as it can. On
 * success *addr is page-aligned; unmap with munmap(*addr, size).
 * Before anything is created or reserved, a size above the machine's physical memory is refused
 * with -ENOMEM (fo__shm_room(), below): a memfd's file system has no limit but memory,
 * so the reservation itself would take every free page.
 */
int fo__port_shm_anon(size_t size, void **addr);

/*
 * fo__port_shm_reserve: make the first size bytes of the file behind fd exist and be backed by
 * storage now (fallocate or posix_fallocate), growing the file to size. Returns 0, -ENOSPC (no
 * room), or another negative errno; a file system that cannot reserve (EOPNOTSUPP) is grown with
 * ftruncate only, and 0 is returned. Before reserving, fo__shm_room() refuses a size above the
 * machine's physical memory (-ENOMEM) or above the free space of fd's file system (-ENOSPC, where
 * that file system has a limit), so an impossible request takes nothing on the way to failing.
 */
int fo__port_shm_reserve(int fd, size_t size);

/*
 * fo__shm_room (ports/common/shm_room.c, the same for every port): room for a shared region,
 * checked before anything is reserved. A memfd's file system and a shared anonymous mapping have
 * no limit but memory: without this check, one oversized request makes fallocate take every free
 * page until the kernel's out-of-memory killer ends processes, the caller's and everyone else's.
 * 0 when size bytes may fit; -EFBIG when fd is not -1 and size is above what an off_t holds;
 * -ENOMEM when size is above the machine's physical memory (a region that can never be held,
 * whatever else is running); -ENOSPC when fd is not -1 and the file system behind it has a size
 * limit and less than size bytes free. A system that does not tell its memory or the file
 * system's room passes that check. Reserves nothing; a request that passes can still fail in the
 * reservation itself, which is what that is for. Called by both ports and by the core's named
 * regions (src/ipc/shm.c).
 */
int fo__shm_room(int fd, size_t size);

/* ------------------------------------------------------------------------------------------------
 * Processes: what fo_proc (src/ppool/proc.c) and the process pool (src/ppool/) need beyond fork(),
 * waitpid(), kill() and pipe(), which are plain POSIX and used by the core directly. Both
 * functions here are async-signal-safe: they run in a child forked from a process that may have
 * had threads.
 */

/*
 * fo__port_die_with_parent: called in a child right after fork(), before anything else, with the
 * pid of the process that forked it. Arranges, where the system can, that the child is killed
 * when that parent dies, and tells whether the parent is already gone.
 * linux: prctl(PR_SET_PDEATHSIG, SIGKILL), then getppid() compared with parent, because a parent
 * that died between fork() and prctl() sends no signal. The kernel sends the signal when the
 * *thread* that forked the child ends, which is why a pool must be used from a thread that
 * outlives it.
 * posix: nothing can be armed without prctl; only the getppid() check. The child must then look
 * for itself, as often as fo__port_orphan_check_ms() says.
 * Returns 0, -ESRCH (the parent is already gone: the child must leave at once), or another
 * negative errno (the child must leave).
 */
int fo__port_die_with_parent(pid_t parent);

/*
 * fo__port_orphan_check_ms: -1 when fo__port_die_with_parent() has the system kill the child
 * with its parent (linux), so the child need not check. Otherwise (posix) how often, in
 * milliseconds, a child that waits for work must compare getppid() with its parent's pid, and
 * leave when they differ (it was re-parented). A pool worker also checks between items at the
 * same interval (reading the clock once per block of items, blocks sized to about a
 * millisecond), so it outlives its parent by at most one item plus this interval; a worker stuck
 * inside one item outlives it until the item returns. Constant for a port.
 */
int fo__port_orphan_check_ms(void);

/* ------------------------------------------------------------------------------------------------
 * What the core calls itself. These are plain POSIX (IEEE Std 1003.1-2008) and behave alike on
 * every system fanout targets, so no port wraps them; a port for a system without one of them
 * would have to add a function above and move the call behind it.
 *   src/base      clock_gettime(CLOCK_MONOTONIC, CLOCK_REALTIME), nanosleep: deadlines.
 *   src/cpu       sysconf(_SC_NPROCESSORS_ONLN) is the port's; the core only combines answers.
 *   src/tpool     pthreads (threads with a set stack size, started with every signal blocked by
 *                 pthread_sigmask; mutexes; condition variables on CLOCK_MONOTONIC), unnamed
 *                 semaphores (sem_init, sem_wait, sem_post), sysconf(_SC_PAGESIZE).
 *   src/ipc       pipe.c: pipe, fcntl (O_NONBLOCK, FD_CLOEXEC), poll, read, write, writev;
 *                 shm.c: shm_open, shm_unlink, ftruncate, fstat, mmap(MAP_SHARED), munmap.
 *   src/shmdict   a process-shared robust mutex (pthread_mutexattr_setpshared and _setrobust,
 *                 pthread_mutex_consistent); configure refuses a C library without them.
 *   src/ppool     proc.c and the pool: fork, waitpid, kill, _exit, getpid, pipe and poll (the
 *                 death watch: a child's end of a pipe closes when it dies).
 *   src/fetch     libcurl, mbedTLS and zlib, which carry their own ports; open, mkostemp, lseek, pread, ftruncate, rename,
 *                 unlink, fstat and fsync for the file sink and resume.
 * The ports add, below the core: mq_* or socketpair(SOCK_SEQPACKET), memfd_create or shm_open,
 * fallocate or posix_fallocate, prctl, sched_getaffinity and the cgroup files.
 */

#endif /* FO_PORTS_PORT_H */
