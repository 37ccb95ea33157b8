# Included into every project() of llama.cpp's CMake build (CMAKE_PROJECT_INCLUDE, set in
# .cargo/config.toml; llama-cpp-sys-2 forwards CMAKE_* variables to CMake). Two changes to the
# vendored llama.cpp (llama-cpp-sys-2 =0.1.161), both checked here so that a different
# llama.cpp fails the build instead of silently going without them.

# 1. llama-cpp-2 turns on llama-cpp-sys-2's default `common` feature, which builds llama.cpp's
# `common` library (chat parsers, argument parsing, an HTTP client). preflight calls none of it
# (its chat templates go through minijinja), and llama-cpp-2 only calls it behind its own
# `common` feature, which preflight leaves off. Skipping it saves about 2.5 minutes of every
# clean build on 2 cores. The option is set before llama.cpp's own option() declares it.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "preflight links no llama.cpp common code" FORCE)

# 2. Q4_1 weights get ggml's repacked multi-row kernels (q4_1_repack.inc explains why and
# what they compute). ggml-cpu is built from a copy of repack.cpp with two lines added to the
# function that picks a tensor's repacked layout, and q4_1_repack.inc included at its end.
if(PROJECT_NAME STREQUAL "ggml")
    set(_pf_src "${PROJECT_SOURCE_DIR}/src/ggml-cpu/repack.cpp")
    set(_pf_inc "${CMAKE_CURRENT_LIST_DIR}/q4_1_repack.inc")
    set(_pf_out "${CMAKE_BINARY_DIR}/preflight/repack.cpp")
    set(_pf_anchor "static const ggml::cpu::tensor_traits * ggml_repack_get_optimal_repack_type(const struct ggml_tensor * cur) {")
    file(READ "${_pf_src}" _pf_text)
    string(FIND "${_pf_text}" "${_pf_anchor}" _pf_at)
    if(_pf_at EQUAL -1)
        message(FATAL_ERROR "preflight: ${_pf_src} has changed; update crates/local/cmake/llama-build.cmake")
    endif()
    string(REPLACE "${_pf_anchor}"
        "static const ggml::cpu::tensor_traits * preflight_q4_1_repack_type(const struct ggml_tensor * cur);\n${_pf_anchor}\n    if (const auto * pf = preflight_q4_1_repack_type(cur)) { return pf; }"
        _pf_text "${_pf_text}")
    string(APPEND _pf_text "\n#include \"${_pf_inc}\"\n")
    # configure_file rewrites the copy only when it changed, so reconfiguring recompiles nothing.
    file(WRITE "${CMAKE_BINARY_DIR}/preflight/repack.cpp.new" "${_pf_text}")
    configure_file("${CMAKE_BINARY_DIR}/preflight/repack.cpp.new" "${_pf_out}" COPYONLY)
    set(PREFLIGHT_REPACK_CPP "${_pf_out}" CACHE INTERNAL "")
    # ggml-cpu does not exist yet; swap the source once the whole tree has been read.
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _preflight_use_patched_repack)
endif()

function(_preflight_use_patched_repack)
    if(NOT TARGET ggml-cpu)
        # GGML_CPU_ALL_VARIANTS / GGML_BACKEND_DL name the CPU backends ggml-cpu-<variant>.
        message(FATAL_ERROR "preflight: no ggml-cpu target (one CPU backend per variant?); update crates/local/cmake/llama-build.cmake")
    endif()
    get_target_property(_srcs ggml-cpu SOURCES)
    list(FIND _srcs "ggml-cpu/repack.cpp" _at)
    if(_at EQUAL -1)
        message(FATAL_ERROR "preflight: ggml-cpu no longer lists ggml-cpu/repack.cpp; update crates/local/cmake/llama-build.cmake")
    endif()
    list(REMOVE_AT _srcs ${_at})
    list(INSERT _srcs ${_at} "${PREFLIGHT_REPACK_CPP}")
    set_property(TARGET ggml-cpu PROPERTY SOURCES ${_srcs})
endfunction()
