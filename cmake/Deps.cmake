# Every dependency comes from a Debian 12 package (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(FUSE3 REQUIRED IMPORTED_TARGET fuse3)

find_library(ISAL_LIBRARY NAMES isal REQUIRED)
find_path(ISAL_INCLUDE_DIR NAMES isa-l/crc.h REQUIRED)
add_library(cairn_dep_isal INTERFACE)
target_link_libraries(cairn_dep_isal INTERFACE ${ISAL_LIBRARY})
target_include_directories(cairn_dep_isal SYSTEM INTERFACE ${ISAL_INCLUDE_DIR})

find_library(ROCKSDB_LIBRARY NAMES rocksdb REQUIRED)
find_path(ROCKSDB_INCLUDE_DIR NAMES rocksdb/db.h REQUIRED)
add_library(cairn_dep_rocksdb INTERFACE)
target_link_libraries(cairn_dep_rocksdb INTERFACE ${ROCKSDB_LIBRARY})
target_include_directories(cairn_dep_rocksdb SYSTEM INTERFACE ${ROCKSDB_INCLUDE_DIR})

add_library(cairn_dep_asio INTERFACE)
target_include_directories(cairn_dep_asio SYSTEM INTERFACE ${Boost_INCLUDE_DIRS})
target_compile_definitions(cairn_dep_asio INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)
target_link_libraries(cairn_dep_asio INTERFACE Threads::Threads)

# tcmalloc (gperftools' minimal build, the allocator Ceph ships with) for the
# binaries in build/bin: glibc's malloc was ~10% of the cluster's CPU in 4 KiB
# writes, and with tcmalloc those ran 9% faster at 12% less daemon CPU per op
# (docs/benchmarks.md). Linked by its runtime name, so only the runtime package is
# needed. Not with the sanitizers, which bring their own allocator.
if(NOT CAIRN_SANITIZE)
  find_library(TCMALLOC_LIBRARY NAMES tcmalloc_minimal libtcmalloc_minimal.so.4 REQUIRED)
endif()
