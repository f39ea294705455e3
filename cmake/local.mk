# The CMake package: `find_package(fanout)` gives the imported target fanout::fanout. configure
# writes both files from their .in templates, with the link dependencies it wrote into fanout.pc.
cmakedir = $(libdir)/cmake/fanout
nodist_cmake_DATA = cmake/fanoutConfig.cmake cmake/fanoutConfigVersion.cmake
EXTRA_DIST += cmake/fanoutConfig.cmake.in cmake/fanoutConfigVersion.cmake.in
