# shmdict: the fixed-capacity hash map in shared memory.
libfanout_a_SOURCES += \
	src/shmdict/shmdict_internal.h \
	src/shmdict/shmdict.c
