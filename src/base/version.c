/* The version of the library as built, for programs linked against a different header. */
#include "config.h"

#include "fanout/fanout.h"

const char *fo_version(void) {
  return FO_VERSION_STRING;
}

unsigned fo_version_number(void) {
  return FO_VERSION_NUMBER;
}
