# The CMake package: `find_package(fanout)` gives the imported target fanout::fanout. configure
# writes both files from their .in templates, with the link dependencies it wrote into fanout.pc.
cmakedir = $(libdir)/cmake/fanout
nodist_cmake_DATA = cmake/fanoutConfig.cmake cmake/fanoutConfigVersion.cmake
EXTRA_DIST += cmake/fanoutConfig.cmake.in cmake/fanoutConfigVersion.cmake.in

# Run against an install (CI step 6, beside tests/static-link.sh): a CMake project built with
# the package, and the run-time libraries README.md lists, which both scripts hold programs to.
EXTRA_DIST += tests/cmake-consumer.sh tests/cmake-consumer/CMakeLists.txt \
	tests/cmake-consumer/main.c tests/runtime-needs.sh
