# ppool: processes (fo_proc, the death watch) and the process pool.
libfanout_a_SOURCES += \
	src/ppool/ppool_internal.h \
	src/ppool/proc.c \
	src/ppool/ppool.c \
	src/ppool/ppool_job.c \
	src/ppool/ppool_life.c \
	src/ppool/ppool_map.c \
	src/ppool/ppool_sched.c \
	src/ppool/ppool_worker.c
