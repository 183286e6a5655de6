# Every third-party library of the harness, one version of each (see DESIGN.md).
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)

# sentencepiece ships no CMake package (Debian has a pkg-config file, not every image pkg-config).
find_path(SENTENCEPIECE_INCLUDE_DIR sentencepiece_processor.h REQUIRED)
find_library(SENTENCEPIECE_LIBRARY sentencepiece REQUIRED)
add_library(griffin_sentencepiece INTERFACE)
target_include_directories(griffin_sentencepiece SYSTEM INTERFACE ${SENTENCEPIECE_INCLUDE_DIR})
target_link_libraries(griffin_sentencepiece INTERFACE ${SENTENCEPIECE_LIBRARY})

# toml++ is used header-only: Debian's CMake target links a compiled library that its -dev
# package does not ship, and the H200 image has only the unpacked header .deb.
find_path(TOMLPP_INCLUDE_DIR toml++/toml.h REQUIRED)
# Gloo's headers (Debian's libgloo-dev; .deps carries its package to the H200): c10d's
# ProcessGroupGloo.hpp includes them, for the CPU side of data-parallel training. The library
# itself is the one inside libtorch.
find_path(GLOO_INCLUDE_DIR gloo/config.h REQUIRED)
add_library(griffin_tomlpp INTERFACE)
target_include_directories(griffin_tomlpp SYSTEM INTERFACE ${TOMLPP_INCLUDE_DIR})
target_compile_definitions(griffin_tomlpp INTERFACE TOML_HEADER_ONLY=1)

if(GRIFFIN_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(GRIFFIN_BENCH)
  find_package(benchmark REQUIRED)
endif()
