#include "config.h"
#include "inject_suites.h"
Suite *oom_suite(void) { return suite_create("oom"); }
