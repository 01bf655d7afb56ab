# Warnings apply to project code only (not to Debian's headers, included as SYSTEM).
function(cairn_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers)
  if(CAIRN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# cairn_library(NAME SOURCES ... DEPS ...): a folder's static library.
function(cairn_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${A_DEPS})
  cairn_warnings(${name})
endfunction()

# cairn_executable(NAME SOURCES ... DEPS ...): a binary in build/bin/.
function(cairn_executable name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS})
  if(TCMALLOC_LIBRARY)
    target_link_libraries(${name} PRIVATE ${TCMALLOC_LIBRARY})
  endif()
  cairn_warnings(${name})
endfunction()

# cairn_test(NAME LABEL unit|integration|thrash|slow SOURCES ... DEPS ... [TIMEOUT s]):
# one GoogleTest binary, registered with ctest under its label.
function(cairn_test name)
  cmake_parse_arguments(A "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT A_LABEL)
    set(A_LABEL unit)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  cairn_warnings(${name})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${A_LABEL} TIMEOUT ${A_TIMEOUT})
endfunction()

# cairn_bench(NAME SOURCES ... DEPS ...): a Google Benchmark binary (run by hand).
function(cairn_bench name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} benchmark::benchmark)
  cairn_warnings(${name})
endfunction()
