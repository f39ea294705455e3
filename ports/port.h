/*
 * The port contract: everything the portable core (src/) asks of the operating system.
 *
 * A port is a set of whole files under ports/<name>/, chosen by `./configure --with-port=NAME`
 * and an AM_CONDITIONAL in Makefile.am; the core never tests the operating system with #ifdef.
 * Two ports exist:
 *   linux  POSIX message queues, shm_open/memfd, prctl(PR_SET_PDEATHSIG), affinity and cgroup
 *          aware CPU counts.
 *   posix  for C libraries without mq_open: plain POSIX calls only.
 *
 * Each function below has a paragraph saying what a port must guarantee. Unless a paragraph says
 * otherwise, a port function is thread-safe, async-signal-unsafe, may be called in a child after
 * fork(), allocates nothing (or only through the allocator hook in src/alloc.h) and reports
 * failure as a negative errno. Modules add their part of the contract here as they arrive.
 */
#ifndef FO_PORTS_PORT_H
#define FO_PORTS_PORT_H

/* ------------------------------------------------------------------------------------------------
 * CPUs. fo_cpu_count() in src/cpu.c takes the smallest non-zero answer of the three.
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

#endif /* FO_PORTS_PORT_H */
