# base: errors, the allocator hook, deadlines, option checks, version and build facts; fault
# points and atomics in the private header. Below the ports: it asks the system for a clock only.
libfanout_a_SOURCES += \
	src/base/base_internal.h \
	src/base/alloc.c \
	src/base/deadline.c \
	src/base/error.c src/base/errno_names.def \
	src/base/info.c \
	src/base/version.c
