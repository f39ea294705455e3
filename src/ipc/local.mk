# ipc: the message queue (over the port's transport), the pipe and shared memory.
libfanout_a_SOURCES += \
	src/ipc/pipe.c \
	src/ipc/queue.c \
	src/ipc/shm.c
