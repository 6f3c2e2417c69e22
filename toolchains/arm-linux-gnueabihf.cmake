# Cross build for 32-bit ARM hard-float with Debian's cross compiler (g++-arm-linux-gnueabihf) and multiarch
# libraries (dpkg --add-architecture armhf; lib*-dev:armhf). Tests run under qemu-user (qemu-arm).
set(FERRY_TRIPLE arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(FERRY_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
