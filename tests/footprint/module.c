/* `make footprint`: the smallest program that uses one module of fanout, chosen by -DFP_MODULE_*
 * (tests/footprint/footprint.sh links one per module, statically, and counts the bytes of
 * libfanout.a that the link map shows were pulled in).
 *
 * The module's entry points are only referenced, never called: what a link pulls in depends on
 * the symbols a program names, not on how it calls them, and a reference does not have to
 * follow each function's arguments. */
#include "fanout/fanout.h"
#include "fanout/ipc.h"
#include "fanout/json.h"
#include "fanout/ppool.h"
#include "fanout/sat.h"
#include "fanout/shmdict.h"
#include "fanout/tpool.h"
#ifdef FP_MODULE_FETCH
#include "fanout/fetch.h"
#endif

typedef void (*fp_fn)(void);

static const fp_fn uses[] = {
#ifdef FP_MODULE_TPOOL
    (fp_fn)fo_tpool_create, (fp_fn)fo_tpool_submit, (fp_fn)fo_tpool_wait, (fp_fn)fo_tpool_destroy,
#endif
#ifdef FP_MODULE_PPOOL
    (fp_fn)fo_ppool_create, (fp_fn)fo_ppool_map, (fp_fn)fo_ppool_destroy,
#endif
#ifdef FP_MODULE_QUEUE
    (fp_fn)fo_mq_create, (fp_fn)fo_mq_send, (fp_fn)fo_mq_recv, (fp_fn)fo_mq_destroy,
#endif
#ifdef FP_MODULE_PIPE
    (fp_fn)fo_pipe_create, (fp_fn)fo_pipe_send, (fp_fn)fo_pipe_recv, (fp_fn)fo_pipe_destroy,
#endif
#ifdef FP_MODULE_SHM
    (fp_fn)fo_shm_create, (fp_fn)fo_shm_addr, (fp_fn)fo_shm_destroy,
#endif
#ifdef FP_MODULE_SHMDICT
    (fp_fn)fo_shmdict_create, (fp_fn)fo_shmdict_add, (fp_fn)fo_shmdict_get,
    (fp_fn)fo_shmdict_destroy,
#endif
#ifdef FP_MODULE_PROC
    (fp_fn)fo_proc_spawn, (fp_fn)fo_proc_join, (fp_fn)fo_proc_destroy,
#endif
#ifdef FP_MODULE_JSON
    (fp_fn)fo_json_parse, (fp_fn)fo_json_path, (fp_fn)fo_json_number, (fp_fn)fo_json_string,
    (fp_fn)fo_json_free,
#endif
#ifdef FP_MODULE_SAT
    (fp_fn)fo_sat_list_parse,
#endif
#ifdef FP_MODULE_FETCH
    (fp_fn)fo_fetch_global_init, (fp_fn)fo_fetcher_create, (fp_fn)fo_fetch_one,
    (fp_fn)fo_fetch_result_free, (fp_fn)fo_fetcher_destroy,
#endif
    (fp_fn)fo_strerror,
};

int main(int argc, char **argv) {
  (void)argv;
  /* An index the compiler cannot know keeps every reference in the program. */
  return uses[(unsigned)argc % (sizeof uses / sizeof uses[0])] == 0;
}
