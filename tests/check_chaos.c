#include "config.h"
#include <check.h>
#include "suites.h"
Suite *chaos_suite(void) { return suite_create("chaos"); }
