# tpool: the fixed-size thread pool and task groups.
libfanout_a_SOURCES += \
	src/tpool/tpool_internal.h \
	src/tpool/tpool.c \
	src/tpool/tpool_group.c
