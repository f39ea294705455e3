/* The port's own queue transport called directly, with no fanout in between: the raw peer that
 * fo_mq is measured against (POSIX mq on the linux port, a SEQPACKET socket pair on posix). */
#ifndef FO_TESTS_BENCH_RAW_H
#define FO_TESTS_BENCH_RAW_H

#include <stddef.h>

typedef struct raw_q raw_q;

/* The peer's name in BENCH lines. */
const char *raw_q_name(void);
/* 0 or -1; created before fork() and shared by both processes. */
int raw_q_open(raw_q **q, size_t msg_size, unsigned depth);
/* Blocking; 0 or -1. */
int raw_q_send(raw_q *q, const void *msg, size_t len);
/* Blocking; the length or -1. */
long raw_q_recv(raw_q *q, void *buf, size_t cap);
void raw_q_close(raw_q *q);

#endif /* FO_TESTS_BENCH_RAW_H */
