/**
 * @file ipc.h
 * Moving data between processes: a message queue (many producers, many consumers), a pipe (one
 * writer, one reader, messages of any size) and shared memory, all created before fork() and
 * used by the parent and its children.
 *
 * Threads and processes. Create an object, then fork(): each child holds the same queue, pipe or
 * region through its copy of the handle. Every process (the parent and each child) calls
 * destroy on its own copy; the object itself goes when the last process lets go of it, or dies.
 * Nothing has a name in /dev/mqueue or /dev/shm while in use, except regions created by name on
 * explicit request, so a killed process leaves nothing behind; the one exception is a SIGKILL
 * between the two system calls that create and unlink a queue on the linux port, which leaves
 * it in /dev/mqueue as "fanout-mq-<pid of the creator>-..." for whoever cleans up.
 * - fo_mq_send and fo_mq_recv are safe from any number of threads and processes at once.
 * - A pipe end belongs to one thread at a time: one writer and one reader. After fork(), each
 *   process destroys the end it does not use, so the reader sees end-of-stream when the writer
 *   goes.
 * - Shared-memory handles may be read from any thread; what the region holds is the caller's to
 *   synchronise (atomics, or a process-shared mutex placed in it).
 * - Create and destroy calls are not safe concurrently with other calls on the same handle.
 * - All calls are safe in a child after fork(); none may be called from a signal handler.
 *
 * Timeouts follow fanout.h: FO_FOREVER, 0 (do not wait: -EAGAIN when the call would have to)
 * or a bound on the whole call (-ETIMEDOUT when it runs out).
 */
#ifndef FANOUT_IPC_H
#define FANOUT_IPC_H

#include <errno.h>
#include <stddef.h>
#include <sys/uio.h>

#include "fanout/fanout.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Message queue
 */

/** A queue of whole messages of up to a fixed size, shared across fork(). */
typedef struct fo_mq fo_mq;

/** fo_mq_create flag: shrink a request above the system's limits to those limits instead of
 * failing. fo_mq_msg_size() and fo_mq_depth() tell what was granted. */
#define FO_MQ_CLAMP 1u

/**
 * Create an empty queue for messages of up to msg_size bytes, holding up to depth messages
 * before a sender blocks. On the linux port this is a POSIX message queue, whose default limits
 * are 10 messages of 8,192 bytes (/proc/sys/fs/mqueue/msg_max and msgsize_max), which
 * unprivileged processes cannot exceed. On the posix port it is a SOCK_SEQPACKET socket pair:
 * msg_size is limited to FO_MQ_SOCK_MSG_MAX (65,536) and depth is a hint, since the socket
 * layer decides how many messages fit.
 * @param q receives the queue.
 * @param msg_size largest message, 1 to INT_MAX bytes.
 * @param depth messages held, >= 1.
 * @param flags 0 or FO_MQ_CLAMP.
 * @return 0, -EINVAL (NULL q, zero or oversized msg_size, zero depth, unknown flag),
 *         FO_EMQLIMIT (linux: above msg_max or msgsize_max, or queues_max reached),
 *         -EMSGSIZE (posix: msg_size above what a socket takes), FO_EMQCOUNT (linux: the user's
 *         RLIMIT_MSGQUEUE byte budget is spent), -EMFILE (descriptor table full), -ENOMEM.
 */
int fo_mq_create(fo_mq **q, size_t msg_size, unsigned depth, unsigned flags);

/** Close this process's handle; the queue itself goes when no process holds it. NULL is a no-op.
 * Messages still queued are lost when the last holder closes. */
void fo_mq_destroy(fo_mq *q);

/** The largest message the queue takes (after FO_MQ_CLAMP); 0 for NULL. */
size_t fo_mq_msg_size(const fo_mq *q);

/** The number of messages the queue holds (linux; a hint on posix); 0 for NULL. */
unsigned fo_mq_depth(const fo_mq *q);

/**
 * Append a message, waiting while the queue is full. Messages are never truncated or split.
 * @param len 0 to fo_mq_msg_size(q) bytes; msg may be NULL when len is 0.
 * @return 0, -EINVAL (NULL q, NULL msg with len > 0, timeout_ms below FO_FOREVER),
 *         FO_ETOOBIG (len above the queue's message size), -EAGAIN (full and timeout_ms 0),
 *         -ETIMEDOUT (still full when the time ran out).
 * Safe from many threads and processes at once.
 */
int fo_mq_send(fo_mq *q, const void *msg, size_t len, int timeout_ms);

/**
 * Append an end-of-stream marker: the receiver that takes it gets FO_EEOF from fo_mq_recv()
 * instead of a message. A queue has no count of its senders (any process holding it may send),
 * so the end of a stream is said by the senders themselves:
 * - several producers, one consumer: each producer calls this once when done; the consumer
 *   stops after as many FO_EEOF as there are producers;
 * - several consumers: whoever knows the producers are done (the parent, after joining them)
 *   sends one marker per consumer; each consumer stops at its first FO_EEOF.
 * A marker is received after every message its sender sent before it. It takes a place in the
 * queue like a message (on linux it is passed over while messages are queued), and is waited
 * for like one. The queue stays usable after markers.
 * @return 0, -EINVAL (NULL q, timeout_ms below FO_FOREVER), -EAGAIN (full and timeout_ms 0),
 *         -ETIMEDOUT (still full when the time ran out).
 * Safe from many threads and processes at once.
 */
int fo_mq_send_end(fo_mq *q, int timeout_ms);

/**
 * Take the oldest message, waiting while the queue is empty. With several receivers, each
 * message goes to exactly one. Messages from one sender arrive in the order it sent them.
 * @param buf receives the message; cap must be at least fo_mq_msg_size(q), so that no message
 *        can be cut short (a queue cannot tell a message's length before taking it).
 * @param len receives the message's length; on FO_ETOOBIG, the capacity needed.
 * @return 0, -EINVAL (NULL q, buf or len, timeout_ms below FO_FOREVER), FO_ETOOBIG (cap below
 *         fo_mq_msg_size(q): *len says how much is needed, nothing is taken), FO_EEOF (an
 *         end-of-stream marker was taken: see fo_mq_send_end()), -EAGAIN (empty and
 *         timeout_ms 0), -ETIMEDOUT (still empty when the time ran out).
 * Safe from many threads and processes at once.
 */
int fo_mq_recv(fo_mq *q, void *buf, size_t cap, size_t *len, int timeout_ms);

/**
 * The descriptor to poll(2) (or select, epoll) for POLLIN, to wait for a queue and other
 * descriptors at once: it is readable when a message or marker may be waiting. (linux: the
 * message queue descriptor; posix: the receiving socket.) A hint, since another receiver may take
 * the message first: follow it with fo_mq_recv(..., 0), which gives -EAGAIN if so. The
 * descriptor stays the queue's: do not read, write or close it.
 * @return the descriptor (>= 0), -EINVAL (NULL q).
 */
int fo_mq_fd(const fo_mq *q);

/* ---------------------------------------------------------------------------------------------
 * Pipe
 */

/** One end of a pipe carrying framed messages of any size. */
typedef struct fo_pipe fo_pipe;

/**
 * Create a pipe: a reader end and a writer end over pipe(2). Fork, then destroy the writer in the
 * reading process and the reader in the writing process.
 * Writing to a pipe whose reader is gone raises SIGPIPE, as write(2) does: a program that wants
 * -EPIPE instead ignores SIGPIPE.
 * @return 0, -EINVAL (NULL reader or writer), -EMFILE, -ENFILE, -ENOMEM.
 */
int fo_pipe_create(fo_pipe **reader, fo_pipe **writer);

/** Close this process's copy of one end. When every copy of the writer is closed, the reader
 * gets the messages already sent and then FO_EEOF. NULL is a no-op. */
void fo_pipe_destroy(fo_pipe *end);

/**
 * Send one message of any length. Messages up to PIPE_BUF bytes (less an 8-byte header) go in
 * one atomic write; longer ones are streamed as the reader takes them.
 * If the time runs out part-way through a message, -ETIMEDOUT (-EAGAIN with timeout_ms 0) is
 * returned and the message stays half sent: the next call must pass the same msg and len, and
 * continues where this one stopped.
 * @return 0, -EINVAL (NULL or not a writer end, NULL msg with len > 0, a different message
 *         while one is half sent, timeout_ms below FO_FOREVER), FO_ETOOBIG (len above
 *         SIZE_MAX less the 8-byte header), -EAGAIN (full and timeout_ms 0), -ETIMEDOUT,
 *         -EPIPE (no reader left, with SIGPIPE ignored).
 */
int fo_pipe_send(fo_pipe *writer, const void *msg, size_t len, int timeout_ms);

/**
 * Send a batch of messages, each iovec one message (msgs[k].iov_base, msgs[k].iov_len bytes),
 * received one by one by fo_pipe_recv() as if each had been sent with fo_pipe_send(), in order.
 * Headers and payloads of up to 64 messages (FO_PIPE_BATCH when fanout is built) go in one
 * writev(2), so a stream of small messages
 * costs the writer a fraction of a system call each and wakes the reader once per batch. On 0,
 * every message is in the pipe, as after fo_pipe_send(): nothing is kept back in the process.
 * Every argument is checked before anything is written: a refused batch sends nothing.
 * If the time runs out, *sent messages went whole and msgs[*sent] may be half sent (any
 * message, small ones too: a batch is not one atomic write). The next call, fo_pipe_sendv() or
 * fo_pipe_send(), must then start with that message (same base and length) and continues it.
 * @param msgs count messages; may be NULL when count is 0. A base may be NULL when its len is 0.
 * @param sent receives how many messages, from msgs[0], were sent whole: set on every return
 *        (0 when the call was refused).
 * @return 0, -EINVAL (NULL or not a writer end, NULL msgs with count > 0, NULL sent, a NULL
 *         base with len > 0, a batch that does not start with the half-sent message, count 0
 *         included, timeout_ms below FO_FOREVER), FO_ETOOBIG (count above
 *         SIZE_MAX / sizeof(struct iovec), or the lengths and their 8-byte headers add up past
 *         SIZE_MAX), -EAGAIN (full and timeout_ms 0), -ETIMEDOUT, -EPIPE (no reader left, with
 *         SIGPIPE ignored).
 */
int fo_pipe_sendv(fo_pipe *writer, const struct iovec *msgs, size_t count, size_t *sent,
                  int timeout_ms);

/**
 * Receive the next message. With buf NULL (and cap 0), only wait for the next message and store
 * its length in *len without taking it (a size query); a zero-length message is taken with any
 * non-NULL buf.
 * If the time runs out part-way through a message, -ETIMEDOUT (-EAGAIN with timeout_ms 0) is
 * returned with *len set to the message's length: the next call must pass the same buf, and
 * continues where this one stopped.
 * @param buf receives the message, cap bytes long.
 * @param len receives the message's length (also on FO_ETOOBIG and -ETIMEDOUT part-way).
 * @return 0, -EINVAL (NULL or not a reader end, NULL len, NULL buf with cap > 0, timeout_ms
 *         below FO_FOREVER), FO_ETOOBIG (the message is longer than cap: it stays next, *len
 *         says how long), -EAGAIN (nothing there and timeout_ms 0), -ETIMEDOUT, FO_EEOF (the
 *         writer closed and every message was taken), FO_EBROKEN (the writer closed or died
 *         part-way through a message).
 */
int fo_pipe_recv(fo_pipe *reader, void *buf, size_t cap, size_t *len, int timeout_ms);

/* ---------------------------------------------------------------------------------------------
 * Shared memory
 */

/** A shared-memory region mapped into this process. */
typedef struct fo_shm fo_shm;

/**
 * Create an anonymous region of size bytes, zero-filled, shared with every process forked
 * afterwards. Its memory is reserved now (on linux, allocated: size bytes of RAM are taken at
 * once): a full /dev/shm or tmpfs is an error here, never a SIGBUS later. It has no name: nothing
 * can open it, and nothing is left when its users die. A size above the machine's physical
 * memory is refused with -ENOMEM before anything is reserved (on linux the memory behind an
 * anonymous region has no other limit: a bigger request would take all of it).
 * @return 0, -EINVAL (NULL shm, size 0 or too large to map), -ENOMEM (size above physical memory,
 *         or none left), -ENOSPC, -EMFILE.
 */
int fo_shm_create(fo_shm **shm, size_t size);

/**
 * Create a region under a name, for unrelated processes to open with fo_shm_open_named(). The
 * name stays in /dev/shm until fo_shm_unlink_named() removes it, even after every process has
 * gone: whoever creates one must unlink it. Mode 0600; never opens an existing object.
 * A size above the machine's physical memory (-ENOMEM, before any name is created) or above
 * the space free in the file system behind /dev/shm (-ENOSPC) is refused before anything is
 * reserved.
 * @param name "/" followed by 1 to 250 characters, none of them '/'.
 * @return 0, -EINVAL (NULL shm or name, bad name, size 0 or too large), -EEXIST (the name is
 *         taken), -ENOSPC (no room: the name is removed again), -EACCES, -ENOMEM (size above
 *         physical memory, or none left), -EMFILE.
 */
int fo_shm_create_named(fo_shm **shm, const char *name, size_t size);

/**
 * Map a region another process created with fo_shm_create_named(), at its full size.
 * @return 0, -EINVAL (NULL shm or name, bad name), -ENOENT (no such name), -EAGAIN (the region
 *         exists but its creator has not finished sizing it), -EACCES, -ENOMEM, -EMFILE.
 */
int fo_shm_open_named(fo_shm **shm, const char *name);

/**
 * Remove a name created with fo_shm_create_named(). Processes that mapped it keep their mapping.
 * @return 0, -EINVAL (NULL or bad name), -ENOENT (no such name), -EACCES.
 */
int fo_shm_unlink_named(const char *name);

/** Unmap the region in this process; other processes keep their mappings. NULL is a no-op. */
void fo_shm_destroy(fo_shm *shm);

/** The region's first byte, page-aligned; NULL for NULL. The address is the same in children
 * forked after creation, so pointers into an anonymous region stay valid there. */
void *fo_shm_addr(const fo_shm *shm);

/** The region's size in bytes, as requested (named: as created); 0 for NULL. */
size_t fo_shm_size(const fo_shm *shm);

#ifdef __cplusplus
}
#endif

#endif /* FANOUT_IPC_H */
