# fetch: HTTP(S) on the thread pool with libcurl; only with libcurl (--without-curl builds the
# core alone).
if HAVE_CURL
pkginclude_HEADERS += include/fanout/fetch.h
libfanout_a_SOURCES += \
	src/fetch/fetch_internal.h \
	src/fetch/fetch.c \
	src/fetch/fetch_engine.c \
	src/fetch/fetch_job.c \
	src/fetch/fetch_decode.c \
	src/fetch/fetch_files.c \
	src/fetch/fetch_header.c \
	src/fetch/fetch_item.c \
	src/fetch/fetch_net.c \
	src/fetch/fetch_policy.c \
	src/fetch/fetch_rate.c \
	src/fetch/fetch_request.c \
	src/fetch/fetch_resume.c \
	src/fetch/fetch_retry.c \
	src/fetch/fetch_sink.c \
	src/fetch/fetch_tls.c \
	src/fetch/fetch_tls_read.c \
	src/fetch/fetch_skip.c \
	src/fetch/fetch_time.c \
	src/fetch/fetch_transfer.c
endif
