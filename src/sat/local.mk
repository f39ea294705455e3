# sat: satellite records, by the selective reader over the text with the tree path behind it.
libfanout_a_SOURCES += \
	src/sat/sat_internal.h \
	src/sat/sat.c \
	src/sat/sat_date.c \
	src/sat/sat_field.c \
	src/sat/sat_reader.c
