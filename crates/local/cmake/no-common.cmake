# Included into every project() of llama.cpp's CMake build (CMAKE_PROJECT_INCLUDE, set in
# .cargo/config.toml; llama-cpp-sys-2 forwards CMAKE_* variables to CMake).
#
# llama-cpp-2 turns on llama-cpp-sys-2's default `common` feature, which builds llama.cpp's
# `common` library (chat parsers, argument parsing, an HTTP client). preflight calls none of it
# (its chat templates go through minijinja), and llama-cpp-2 only calls it behind its own
# `common` feature, which preflight leaves off. Skipping it saves about 2.5 minutes of every
# clean build on 2 cores. The option is set before llama.cpp's own option() declares it.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "preflight links no llama.cpp common code" FORCE)
