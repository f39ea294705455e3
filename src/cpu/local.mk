# cpu: fo_cpu_count() and fo_cpu_online(), the smallest of the port's answers. Above the ports.
libfanout_a_SOURCES += src/cpu/cpu.c
