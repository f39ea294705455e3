# fanout-demo: the tiny demo program, a user of the library like any other.
if BUILD_DEMO
bin_PROGRAMS = fanout-demo
fanout_demo_SOURCES = \
	demo/main.c \
	demo/demo.h \
	demo/args.c \
	demo/cpus.c \
	demo/counter.c \
	demo/map.c \
	demo/queue.c \
	demo/threads.c
fanout_demo_LDADD = libfanout.a $(CURL_LIBS)
if HAVE_CURL
fanout_demo_SOURCES += demo/starlink.c demo/starlink.h demo/starlink_fetch.c \
	demo/starlink_out.c demo/get.c demo/get.h demo/get_cancel.c demo/get_out.c \
	demo/get_run.c demo/get_urls.c
else
fanout_demo_SOURCES += demo/starlink_nocurl.c demo/get_nocurl.c
endif
dist_man1_MANS = demo/fanout-demo.1
if !CROSS_COMPILING
if HAVE_CURL
# Against the local API mirror, which is built like the other check programs.
TESTS += tests/demo-starlink.sh
tests/demo-starlink.sh.log: fanout-demo tests/mirror/fo-mirror
TESTS += tests/demo-get.sh
tests/demo-get.sh.log: fanout-demo tests/mirror/fo-mirror
# Error lines against the hostile server: no password, no query, no raw escape.
TESTS += tests/demo-get-redact.sh
tests/demo-get-redact.sh.log: fanout-demo tests/hostile/fo-hostile
# Credentials against nginx asking for a client certificate.
TESTS += tests/demo-get-mtls.sh
tests/demo-get-mtls.sh.log: fanout-demo
endif
TESTS += tests/demo-lesson.sh
tests/demo-lesson.sh.log: fanout-demo
TESTS += tests/demo.sh
tests/demo.sh.log: fanout-demo
endif
endif
