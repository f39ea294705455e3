# The port: whole files, chosen by --with-port (see ports/port.h for the contract), and what every
# port shares (ports/common/).
libfanout_a_SOURCES += ports/port.h ports/common/shm_room.c
if PORT_LINUX
libfanout_a_SOURCES += \
	ports/linux/cpu.c ports/linux/linux.h \
	ports/linux/mq.c \
	ports/linux/name.c \
	ports/linux/proc.c \
	ports/linux/shm.c
endif
if PORT_POSIX
libfanout_a_SOURCES += \
	ports/posix/cpu.c \
	ports/posix/mq.c \
	ports/posix/proc.c \
	ports/posix/shm.c
endif
