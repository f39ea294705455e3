# json: the tree over jsmn (vendored, pinned: src/json/jsmn/README), numbers, strings, the
# scanning kernels.
libfanout_a_SOURCES += \
	src/json/json_internal.h \
	src/json/jsmn/jsmn.h \
	src/json/json.c \
	src/json/json_number.c \
	src/json/json_parse.c \
	src/json/json_string.c
EXTRA_DIST += src/json/jsmn/LICENSE src/json/jsmn/README
