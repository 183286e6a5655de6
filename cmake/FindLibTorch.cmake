# LibTorch comes from the torch Python package (PyPI torch==2.11.0 in the project's .venv here;
# the image's /opt/torch/.venv on the H200). Its CMake package lives at torch.utils.cmake_prefix_path.
if(NOT GRIFFIN_PYTHON)
  if(EXISTS "${PROJECT_SOURCE_DIR}/.venv/bin/python")
    set(GRIFFIN_PYTHON "${PROJECT_SOURCE_DIR}/.venv/bin/python")
  else()
    find_program(GRIFFIN_PYTHON NAMES python3 python REQUIRED)
  endif()
endif()
execute_process(
  COMMAND "${GRIFFIN_PYTHON}" -c "import torch, sys; sys.stdout.write(torch.utils.cmake_prefix_path)"
  OUTPUT_VARIABLE _torch_prefix
  RESULT_VARIABLE _torch_rc
  ERROR_VARIABLE _torch_err)
if(NOT _torch_rc EQUAL 0)
  message(FATAL_ERROR "Cannot import torch with ${GRIFFIN_PYTHON}: ${_torch_err}\n"
                      "Run scripts/setup first (it creates .venv with torch 2.11.0).")
endif()
list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")

# torch's CMake looks for CUDA whenever the wheel was built with it; it finds /usr/local/cuda.
if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
find_package(Torch REQUIRED)

# torch's compile flags include -D_GLIBCXX_USE_CXX11_ABI and, for CUDA builds, nvcc flags; its
# include folder carries fmt 12, which shadows Debian's fmt 9, so fmt is used header-only.
add_library(griffin_torch INTERFACE)
target_link_libraries(griffin_torch INTERFACE ${TORCH_LIBRARIES})
target_compile_definitions(griffin_torch INTERFACE FMT_HEADER_ONLY)
target_compile_options(griffin_torch INTERFACE $<$<COMPILE_LANGUAGE:CXX>:${TORCH_CXX_FLAGS}>)
