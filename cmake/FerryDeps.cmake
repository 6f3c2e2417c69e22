# Imports every external library ferry builds against, each from a Debian package that
# scripts/install-deps.sh installs. Nothing is downloaded at build time.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(tomlplusplus 3 REQUIRED)      # libtomlplusplus-dev: configuration files
find_package(nlohmann_json 3 REQUIRED)     # nlohmann-json3-dev: control API and reports
find_package(CLI11 2 REQUIRED)             # libcli11-dev: command lines of ferryd, ferryctl, ferry-loadgen

# moodycamel queues (libconcurrentqueue-dev, libreaderwriterqueue-dev) are header-only.
find_path(FERRY_CONCURRENTQUEUE_INCLUDE concurrentqueue/concurrentqueue.h REQUIRED)
add_library(ferry_dep_concurrentqueue INTERFACE)
add_library(ferry::dep::concurrentqueue ALIAS ferry_dep_concurrentqueue)
target_include_directories(ferry_dep_concurrentqueue SYSTEM INTERFACE ${FERRY_CONCURRENTQUEUE_INCLUDE})
find_path(FERRY_READERWRITERQUEUE_INCLUDE readerwriterqueue/readerwriterqueue.h)

# Crypto (verify/): libsecp256k1 (ECDSA recovery), libsodium (Ed25519), mbedTLS (SHA-256, HMAC). Debian's mbedTLS
# 2.28 ships no pkg-config file, so its library is found by name.
pkg_check_modules(SECP256K1 REQUIRED IMPORTED_TARGET libsecp256k1)   # libsecp256k1-dev
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)          # libsodium-dev
find_path(FERRY_MBEDTLS_INCLUDE mbedtls/sha256.h REQUIRED)            # libmbedtls-dev
find_library(FERRY_MBEDCRYPTO_LIBRARY mbedcrypto REQUIRED)
add_library(ferry_dep_mbedcrypto INTERFACE)
add_library(ferry::dep::mbedcrypto ALIAS ferry_dep_mbedcrypto)
target_include_directories(ferry_dep_mbedcrypto SYSTEM INTERFACE ${FERRY_MBEDTLS_INCLUDE})
target_link_libraries(ferry_dep_mbedcrypto INTERFACE ${FERRY_MBEDCRYPTO_LIBRARY})

# liburing-dev: the io_uring backend (the data plane falls back to sockets where the kernel refuses io_uring).
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)

# DPDK: Debian ships it for amd64; a cross build on an amd64 host cannot have libdpdk-dev for the target beside
# the host's (its rdma-core dependency is not multiarch), so cross builds go without it.
set(FERRY_HAVE_DPDK OFF)
if(NOT FERRY_WITH_DPDK STREQUAL "OFF")
  pkg_check_modules(DPDK IMPORTED_TARGET libdpdk)
  if(DPDK_FOUND)
    set(FERRY_HAVE_DPDK ON)
  elseif(FERRY_WITH_DPDK STREQUAL "ON")
    message(FATAL_ERROR "FERRY_WITH_DPDK=ON but libdpdk was not found by pkg-config (install dpdk-dev libdpdk-dev)")
  endif()
endif()
message(STATUS "ferry: DPDK ${FERRY_HAVE_DPDK}, CPU tuning '${FERRY_CPU}', sanitizers '${FERRY_SANITIZE}'")

if(FERRY_BUILD_TESTS OR FERRY_BUILD_BENCH)
  # libcrypto++-dev: the reference Keccak-256 that ferry's is tested and measured against.
  pkg_check_modules(CRYPTOPP REQUIRED IMPORTED_TARGET libcrypto++)
endif()
if(FERRY_BUILD_TESTS)
  find_package(GTest REQUIRED)             # libgtest-dev, libgmock-dev
  include(GoogleTest)
endif()
if(FERRY_BUILD_BENCH)
  find_package(benchmark REQUIRED)         # libbenchmark-dev
endif()
