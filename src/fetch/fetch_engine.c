/* The engine: what a worker thread of the fetcher runs for a call. It takes an idle easy handle
 * (or makes one), then claims the call's items one after another until none is left, so a slow
 * item holds up one worker, never a fixed share of the list, and hands each to the item code of
 * fetch_transfer.c. The handle goes back to the idle stack, keeping its connections alive for
 * the next call. The call (fetch_job.c) is reached only through its fo__work. */
#include "config.h"

#include <errno.h>
#include <stddef.h>

#include "base/base_internal.h"
#include "fetch/fetch_internal.h"

int fo__engine_run(fo_fetcher *f, const fo__work *w) {
  fo__handle *h;
  if (fo__handle_take(f, &h) != 0)
    return -ENOMEM;
  h->watch.work = w;
  fo__claim c;
  while (w->claim(w->call, &c)) {
    int stop = 0;
    int err = c.final ? 0 : fo__time_item_check(f, w, c.index, &stop);
    if (c.final) {
      /* refused before the start (fo__files_outputs_check, a NULL URL) */
    } else if (err != 0) {
      /* no file is touched: a partial file of an earlier run stays as it was */
      fo__fail_result(c.result, err,
                      err == -ETIMEDOUT        ? "the call's deadline passed before it started"
                      : stop == FO__STOP_JOB ? "cancelled (fo_fetch_job_cancel) before it started"
                                             : "cancelled (fo_fetcher_cancel) before it started");
    } else {
      h->watch.index = c.index;
      fo__fetch_item(f, h, c.req, c.result);
    }
    w->done(w->call, c.index);
  }
  h->watch.work = NULL;
  fo__handle_put(f, h);
  return 0;
}
