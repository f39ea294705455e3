# The parts of ./quickstart, which it reads from beside itself: shipped so that the quickstart of
# an unpacked tarball works too. Included by Makefile.am.
EXTRA_DIST += \
	build-aux/quickstart/common.sh \
	build-aux/quickstart/apt.sh \
	build-aux/quickstart/sources.sh \
	build-aux/quickstart/deps.sh \
	build-aux/quickstart/board.sh \
	build-aux/quickstart/check.sh \
	build-aux/quickstart/demo.sh
