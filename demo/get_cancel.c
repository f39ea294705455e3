/* get's SIGINT and SIGTERM: they cancel the run. A handler reaches nothing but statics, so the
 * fetcher is here while fo_fetch_requests() runs; fo_fetcher_cancel() is async-signal-safe.
 * SA_RESETHAND: a second signal ends the program at once (a partial file stays resumable all the
 * same). These statics are the demo's, a program's own: the library keeps none. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "demo.h"
#include "fanout/fetch.h"

static fo_fetcher *volatile cancel_target;
static volatile sig_atomic_t cancel_signal;

static void on_signal(int sig) {
  cancel_signal = sig;
  fo_fetcher *f = cancel_target;
  if (f != NULL)
    fo_fetcher_cancel(f);
}

static const int sigs[2] = {SIGINT, SIGTERM};

void demo_cancel_begin(struct fo_fetcher *f, struct sigaction *old) {
  cancel_signal = 0;
  cancel_target = f;
  for (int i = 0; i < 2; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(sigs[i], &sa, &old[i]);
  }
}

int demo_cancel_end(struct sigaction *old) {
  for (int i = 0; i < 2; i++)
    sigaction(sigs[i], &old[i], NULL);
  cancel_target = NULL;
  return cancel_signal;
}

int demo_cancel_seen(void) {
  return cancel_signal != 0;
}
