#include "config.h"
#include "inject_suites.h"
Suite *badargs_suite(void) { return suite_create("badargs"); }
