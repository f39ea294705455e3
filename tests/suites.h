/* Every Check suite of the test runner: one per module, in tests/check_<module>.c. */
#ifndef FO_TESTS_SUITES_H
#define FO_TESTS_SUITES_H

#include <check.h>

Suite *error_suite(void);
Suite *alloc_suite(void);
Suite *cpu_suite(void);
/* fo_info_get (tests/check_info.c) */
Suite *info_suite(void);
Suite *queue_suite(void);
Suite *pipe_suite(void);
Suite *shm_suite(void);
Suite *shmdict_suite(void);
Suite *tpool_suite(void);
/* tests/check_tpool_wake.c: the sleep and wake-up protocol, in the tpool suite */
void tpool_wake_cases(Suite *s);
/* Only with libcurl (FO_HAVE_CURL). */
Suite *fetch_suite(void);
Suite *fetch_tls_suite(void);
/* client certificates, pins, CA from memory, CRLs and the TLS hook against nginx */
Suite *fetch_mtls_suite(void);
/* requests, sinks, digests and compression against nginx */
Suite *fetch_req_suite(void);
Suite *fetch_sink_suite(void);
/* the fetcher against a hostile server (tests/check_fetch_hostile.c) */
Suite *fetch_hostile_suite(void);
/* time limits and cancel against the mirror (tests/check_fetch_time.c) */
Suite *fetch_time_suite(void);
/* many transfers per worker through the multi engine (tests/check_fetch_engine.c) */
Suite *fetch_engine_suite(void);
/* jobs: submit, wait, cancel, the descriptor (tests/check_fetch_job.c) */
Suite *fetch_job_suite(void);
/* tests/check_fetch_redirect.c: redirects and caller headers, in the fetch_hostile suite */
void fetch_redirect_cases(Suite *s);
/* tests/check_fetch_resume.c: resume against the mirror, in the fetch_sink suite */
void fetch_resume_cases(Suite *s);
/* tests/check_fetch_files.c: the files beside an output against a second user, in fetch_sink */
void fetch_files_cases(Suite *s);
/* tests/check_fetch_net.c: proxies, the local end, IP version, byte rates, per-request options */
Suite *fetch_net_suite(void);
/* tests/check_fetch_h2.c: HTTP/2 by ALPN, HTTP/1.1 only, the multi handle's setup, against nginx */
Suite *fetch_h2_suite(void);
Suite *json_suite(void);
/* tests/check_json_error.c: error positions of the JSON and satellite layers, in the json suite */
void json_error_cases(Suite *s);
/* tests/check_json_scan.c: the selective reader's string scan, in the json suite */
void json_scan_cases(Suite *s);
Suite *sat_suite(void);
/* hostile input to the JSON and satellite layers */
Suite *hostile_suite(void);
/* the document generator under tests/gen/ */
Suite *fixtures_suite(void);
Suite *ppool_suite(void);
/* SIGKILL at random points (tests/check_kill.c) */
Suite *kill_suite(void);
/* the fetcher against every fault of the mirror at random (tests/check_chaos.c, with libcurl) */
Suite *chaos_suite(void);
/* tests/check_port_linux.c or tests/check_port_posix.c, whichever port is built. */
Suite *port_suite(void);

#endif /* FO_TESTS_SUITES_H */
