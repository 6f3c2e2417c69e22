# Shared by the cross toolchain files: FERRY_TRIPLE, CMAKE_SYSTEM_PROCESSOR and FERRY_QEMU are set by the includer.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${FERRY_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${FERRY_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${FERRY_TRIPLE})

# Debian's multiarch layout: the target's libraries are in /usr/lib/<triple>, headers shared in /usr/include.
# Search only there (and the cross compiler's own sysroot) for libraries, never the host's.
set(CMAKE_FIND_ROOT_PATH /usr/${FERRY_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${FERRY_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# The multiarch libraries load through the target's dynamic loader, installed by libc6:<arch> at its usual place,
# so qemu needs no -L prefix.
find_program(FERRY_QEMU_PATH ${FERRY_QEMU} REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${FERRY_QEMU_PATH})
