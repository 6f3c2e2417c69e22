# Cross build for 64-bit ARM with Debian's cross compiler (g++-aarch64-linux-gnu) and multiarch libraries
# (dpkg --add-architecture arm64; lib*-dev:arm64). Tests run under qemu-user: ctest prefixes each with the emulator.
set(FERRY_TRIPLE aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(FERRY_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
