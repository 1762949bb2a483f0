# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# libtierjit and what `cmake --install` puts in a prefix:
#   lib/libtierjit.so.0.1.0   the C API and the public C++ API (every other symbol hidden by
#                             cmake/libtierjit.map), linked against libLLVM and lld
#   lib/libtierjit.a          every library of the tree merged into one archive
#   include/tierjit/          the public headers (C: tierjit.h; C++: the *.hpp)
#   lib/cmake/tierjit/        tierjitConfig.cmake + version: find_package(tierjit), targets
#                             tierjit::tierjit (shared) and tierjit::tierjit_static
#   lib/pkgconfig/tierjit.pc  pkg-config tierjit (--static for the archive)
#   bin/tierjit, bin/tierjit-engine and share/man/man1/tierjit.1 (from the command's help)
#   share/tierjit/guest/      the riscv64 guest sysroot (tierjit compile --target riscv64)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Every library, users before what they use (the order a static link needs).
set(TIERJIT_ARCHIVES tierjit_capi tierjit_engine tierjit_aot tierjit_vm tierjit_bytecode_llvm
    tierjit_cnp tierjit_interp tierjit_stablehlo tierjit_sandbox_symbols tierjit_sandbox
    tierjit_kernels tierjit_llvmir tierjit_bytecode tierjit_image tierjit_baseline tierjit_guest
    tierjit_tierup tierjit_backend tierjit_runtime tierjit_support)

# ---- the shared library ----
add_library(tierjit_shared SHARED ${PROJECT_SOURCE_DIR}/src/capi/capi.cpp)
set_target_properties(tierjit_shared PROPERTIES
  OUTPUT_NAME tierjit EXPORT_NAME tierjit
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/libtierjit.map)
target_compile_options(tierjit_shared PRIVATE ${TIERJIT_WARNINGS})
target_include_directories(tierjit_shared PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# Whole archives: the C++ API's members are kept although the C API does not call them all.
set(_tj_whole "-Wl,--whole-archive")
foreach(a ${TIERJIT_ARCHIVES})
  if(NOT a STREQUAL "tierjit_capi")
    list(APPEND _tj_whole "$<TARGET_FILE:${a}>")
  endif()
endforeach()
list(APPEND _tj_whole "-Wl,--no-whole-archive"
     "-Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/libtierjit.map" "-Wl,--no-undefined")
target_link_options(tierjit_shared PRIVATE ${_tj_whole})
target_link_libraries(tierjit_shared PRIVATE ${TIERJIT_ARCHIVES} lldELF lldCommon LLVM)

# ---- the static archive: the libraries merged (ar MRI script) ----
set(_tj_mri "create ${PROJECT_BINARY_DIR}/libtierjit.a\n")
foreach(a ${TIERJIT_ARCHIVES})
  string(APPEND _tj_mri "addlib $<TARGET_FILE:${a}>\n")
endforeach()
string(APPEND _tj_mri "save\nend\n")
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/libtierjit.mri CONTENT "${_tj_mri}")
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/libtierjit.a
  COMMAND ${CMAKE_COMMAND} -E rm -f ${PROJECT_BINARY_DIR}/libtierjit.a
  COMMAND ${CMAKE_AR} -M < ${PROJECT_BINARY_DIR}/libtierjit.mri
  DEPENDS ${TIERJIT_ARCHIVES} ${PROJECT_BINARY_DIR}/libtierjit.mri
  COMMENT "Merging the libraries into libtierjit.a" VERBATIM)
add_custom_target(tierjit_static_archive ALL DEPENDS ${PROJECT_BINARY_DIR}/libtierjit.a)

# What a static link needs besides the archive: LLVM, lld and the libraries they use.
set(TIERJIT_STATIC_DEPS "-L${LLVM_LIBRARY_DIR} -llldELF -llldCommon -lLLVM-${TIERJIT_LLVM_MAJOR} -lfmt -lxxhash -lhiredis -lsodium -lz -lzstd -lstdc++ -lpthread -ldl -lm")

# ---- the man page, from the command's own help ----
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/tierjit.1
  COMMAND Python3::Interpreter ${PROJECT_SOURCE_DIR}/scripts/gen-man
          $<TARGET_FILE:tierjit_engine_exe> ${PROJECT_BINARY_DIR}/tierjit.1 ${PROJECT_VERSION}
  DEPENDS tierjit_engine_exe ${PROJECT_SOURCE_DIR}/scripts/gen-man
  COMMENT "Writing tierjit.1 from the command's help" VERBATIM)
add_custom_target(tierjit_man ALL DEPENDS ${PROJECT_BINARY_DIR}/tierjit.1)

# ---- install ----
install(TARGETS tierjit_shared EXPORT tierjitTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/libtierjit.a DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tierjit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/generated/tierjit/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tierjit)
install(PROGRAMS $<TARGET_FILE:tierjit> $<TARGET_FILE:tierjit_engine_exe>
        DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_BINARY_DIR}/tierjit.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
# The riscv64 guest sysroot (found beside the command or the library: src/guest).
install(DIRECTORY ${PROJECT_BINARY_DIR}/guest/lib ${PROJECT_BINARY_DIR}/guest/include
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tierjit/guest)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/THIRD-PARTY.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(TIERJIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tierjit)
install(EXPORT tierjitTargets NAMESPACE tierjit:: DESTINATION ${TIERJIT_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tierjitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tierjitConfig.cmake INSTALL_DESTINATION ${TIERJIT_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tierjitConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tierjitConfig.cmake
              ${PROJECT_BINARY_DIR}/tierjitConfigVersion.cmake
        DESTINATION ${TIERJIT_CMAKE_DIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/tierjit.pc.in ${PROJECT_BINARY_DIR}/tierjit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tierjit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
