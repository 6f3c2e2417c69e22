# The one way ferry declares its targets (abseil's absl_cc_library is the model).
#
#   ferry_library(<layer> SRCS <files> [DEPS <lower layers>] [PUBLIC_LINK <targets>] [PRIVATE_LINK <targets>])
#     One static library per code folder: ferry_<layer>, alias ferry::<layer>, public headers in
#     <layer>/include/ferry/<layer>/. DEPS must name layers that come before <layer> in FERRY_LAYERS.
#     Every public header is also compiled on its own (ferry_<layer>_headers), so that none leans on another's includes.
#   ferry_executable(<name> SRCS <files> [LINK <targets>])
#   ferry_test(<folder> SRCS <files> [LINK <targets>])
#     One GoogleTest binary per folder, ferry_<folder>_tests. Tests are labelled by their suite's name:
#     a suite ending in Stress is `stress`, ending in E2e is `e2e`, any other is `fast`.

# Compile and link settings every ferry target takes, as one interface target rather than global flags.
add_library(ferry_build_options INTERFACE)
target_compile_options(ferry_build_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${FERRY_WERROR}>:-Werror>
  # GCC 12's flow-sensitive warnings misfire at -O2 on test code that copies, slices and edits std::vectors of
  # bytes (a "null pointer dereference" in std::byte's operator^=, memcpy "out of bounds" or "overread" in
  # insert): the libraries and programs keep them, the test binaries (FERRY_TEST_CODE) do not.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<BOOL:$<TARGET_PROPERTY:FERRY_TEST_CODE>>>:-Wno-null-dereference
    -Wno-array-bounds -Wno-stringop-overread -Wno-stringop-overflow>)
if(FERRY_SANITIZE)
  target_compile_options(ferry_build_options INTERFACE -fsanitize=${FERRY_SANITIZE} -fno-omit-frame-pointer
                         -fno-sanitize-recover=all)
  target_link_options(ferry_build_options INTERFACE -fsanitize=${FERRY_SANITIZE})
endif()
if(NOT FERRY_CPU STREQUAL "generic")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|i.86)$")
    target_compile_options(ferry_build_options INTERFACE -march=${FERRY_CPU})
  else()
    target_compile_options(ferry_build_options INTERFACE -mcpu=${FERRY_CPU})
  endif()
endif()

function(_ferry_check_headers target include_dir)
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE ${include_dir} ${include_dir}/*.hpp)
  set(sources)
  foreach(header IN LISTS headers)
    string(MAKE_C_IDENTIFIER ${header} stem)
    set(source ${CMAKE_CURRENT_BINARY_DIR}/header_check/${stem}.cpp)
    # Included twice: the second include also proves the include guard.
    file(CONFIGURE OUTPUT ${source} CONTENT "#include \"${header}\"\n#include \"${header}\"\n")
    list(APPEND sources ${source})
  endforeach()
  if(sources)
    add_library(${target}_headers OBJECT ${sources})
    target_link_libraries(${target}_headers PRIVATE ${target} ferry_build_options)
  endif()
endfunction()

function(ferry_library layer)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SRCS;DEPS;PUBLIC_LINK;PRIVATE_LINK")
  list(FIND FERRY_LAYERS ${layer} self_rank)
  if(self_rank LESS 0)
    message(FATAL_ERROR "ferry_library(${layer}): '${layer}' is not one of the layers (${FERRY_LAYERS})")
  endif()
  set(deps)
  foreach(dep IN LISTS arg_DEPS)
    list(FIND FERRY_LAYERS ${dep} dep_rank)
    if(dep_rank LESS 0 OR NOT dep_rank LESS self_rank)
      message(FATAL_ERROR "ferry_${layer} may not depend on '${dep}': layers depend only on those before them "
                          "in (${FERRY_LAYERS})")
    endif()
    list(APPEND deps ferry::${dep})
  endforeach()

  add_library(ferry_${layer} STATIC ${arg_SRCS})
  add_library(ferry::${layer} ALIAS ferry_${layer})
  target_include_directories(ferry_${layer} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                            PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(ferry_${layer} PUBLIC ${deps} ${arg_PUBLIC_LINK}
                                       PRIVATE ferry_build_options ${arg_PRIVATE_LINK})
  _ferry_check_headers(ferry_${layer} ${CMAKE_CURRENT_SOURCE_DIR}/include)
endfunction()

function(ferry_executable name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SRCS;LINK")
  add_executable(${name} ${arg_SRCS})
  target_link_libraries(${name} PRIVATE ferry_build_options ${arg_LINK})
endfunction()

function(ferry_test folder)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SRCS;LINK")
  set(target ferry_${folder}_tests)
  add_executable(${target} ${arg_SRCS})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${target} PRIVATE ferry_build_options ${arg_LINK} GTest::gtest_main)
  set_target_properties(${target} PROPERTIES FERRY_TEST_CODE ON)
  # Discovered when ctest runs (not at build time), so that cross-built binaries run under the emulator.
  foreach(label IN ITEMS fast stress e2e)
    if(label STREQUAL "fast")
      set(filter "-*Stress.*:*E2e.*")
    elseif(label STREQUAL "stress")
      set(filter "*Stress.*")
    else()
      set(filter "*E2e.*")
    endif()
    gtest_discover_tests(${target} TEST_FILTER ${filter} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 120
                         TEST_LIST ${target}_${label} PROPERTIES LABELS ${label} TIMEOUT 300)
  endforeach()
endfunction()
