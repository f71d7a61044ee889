# cuda.cmake — the device part of the build: engine/device.cpp (always) and, with MEMSIG_CUDA,
# the cuDNN RNN backend in engine/cuda/ (README, "GPU").
#
# MEMSIG_CUDA defaults to ON when nvcc and cuDNN are found (PATH, $CUDA_HOME, /usr/local/cuda,
# the system paths) and the build is not a cross build, OFF otherwise; the CPU build never needs CUDA. (The Makefile's own builds
# choose explicitly: `make` is the CPU build, `make cuda` builds build-cuda/.)
#
# The one .cu file is compiled by a custom command running nvcc, not through enable_language(CUDA).
# enable_language(CUDA) does work with Debian 12's CMake 3.25 and CUDA 13 (checked), but the
# project's directory-wide C++ options (-march=native, -Wall ...) would reach nvcc, which
# rejects them; the custom command keeps the CUDA compile self-contained and the same from
# CMake 3.18 to 4.x. The host side (cuDNN and cuBLAS calls) is plain C++ compiled by the C++
# compiler. Warnings are errors in all CUDA sources, and deprecated cuDNN calls warn (so fail).
target_sources(memsig_engine PRIVATE engine/device.cpp engine/cuda/cudnn_layout.cpp)

find_program(MEMSIG_NVCC nvcc HINTS ENV CUDA_HOME PATH_SUFFIXES bin PATHS /usr/local/cuda/bin)
set(_cuda_hints /usr/local/cuda)
if(MEMSIG_NVCC)
  get_filename_component(_nvcc_dir "${MEMSIG_NVCC}" DIRECTORY)
  get_filename_component(_cuda_root "${_nvcc_dir}" DIRECTORY)
  list(PREPEND _cuda_hints "${_cuda_root}")
endif()
find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${_cuda_hints} PATH_SUFFIXES include)
find_library(CUDNN_LIBRARY cudnn HINTS ${_cuda_hints} PATH_SUFFIXES lib64 lib)
# A cross build (e.g. cmake/aarch64-linux-gnu.cmake) would find the host's x86 CUDA: off by default.
if(MEMSIG_NVCC AND CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY AND NOT CMAKE_CROSSCOMPILING)
  set(_cuda_default ON)
else()
  set(_cuda_default OFF)
endif()
option(MEMSIG_CUDA "build the cuDNN RNN backend (--device cuda); default: on when nvcc and cuDNN are found" ${_cuda_default})

if(MEMSIG_CUDA)
  if(NOT MEMSIG_NVCC OR NOT CUDNN_INCLUDE_DIR OR NOT CUDNN_LIBRARY)
    message(FATAL_ERROR "MEMSIG_CUDA=ON needs nvcc (found: ${MEMSIG_NVCC}), cudnn.h (${CUDNN_INCLUDE_DIR}) and "
                        "libcudnn (${CUDNN_LIBRARY}); set CUDA_HOME or CMAKE_PREFIX_PATH, or -DMEMSIG_CUDA=OFF")
  endif()
  set(CUDAToolkit_ROOT "${_cuda_root}")
  find_package(CUDAToolkit REQUIRED)
  file(STRINGS "${CUDNN_INCLUDE_DIR}/cudnn_version.h" _cudnn_major REGEX "^#define CUDNN_MAJOR [0-9]+")
  string(REGEX MATCH "[0-9]+" _cudnn_major "${_cudnn_major}")
  if(_cudnn_major LESS 8)
    message(FATAL_ERROR "MEMSIG_CUDA needs cuDNN 8 or later (the v8 RNN API); found cuDNN ${_cudnn_major}")
  endif()
  # sm_80 (A100) and sm_90 (H100/H200) machine code, plus sm_90 PTX for newer GPUs to compile at load.
  set(MEMSIG_CUDA_ARCHS "80;90" CACHE STRING "GPU architectures of the CUDA kernels (the last also as PTX)")
  set(_gencode "")
  foreach(arch ${MEMSIG_CUDA_ARCHS})
    list(APPEND _gencode -gencode arch=compute_${arch},code=sm_${arch})
  endforeach()
  list(GET MEMSIG_CUDA_ARCHS -1 _last_arch)
  list(APPEND _gencode -gencode arch=compute_${_last_arch},code=compute_${_last_arch})
  set(_kernels_obj "${CMAKE_CURRENT_BINARY_DIR}/memsig_rnn_kernels.o")
  add_custom_command(
    OUTPUT "${_kernels_obj}"
    COMMAND "${MEMSIG_NVCC}" -std=c++17 -O3 ${_gencode} -ccbin "${CMAKE_CXX_COMPILER}" -I "${CMAKE_SOURCE_DIR}"
            -Werror all-warnings -Xcompiler=-Wall,-Wextra,-Werror,-fPIE
            -c "${CMAKE_SOURCE_DIR}/engine/cuda/rnn_kernels.cu" -o "${_kernels_obj}"
    DEPENDS engine/cuda/rnn_kernels.cu engine/cuda/rnn_kernels.h engine/cuda/cell_math.h
    COMMENT "nvcc engine/cuda/rnn_kernels.cu (${MEMSIG_CUDA_ARCHS})"
    VERBATIM)
  set_source_files_properties("${_kernels_obj}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  set_source_files_properties(engine/cuda/rnn_cudnn.cpp PROPERTIES COMPILE_OPTIONS "-Werror")
  target_sources(memsig_engine PRIVATE engine/cuda/rnn_cudnn.cpp "${_kernels_obj}")
  target_compile_definitions(memsig_engine PUBLIC MEMSIG_HAVE_CUDA PRIVATE CUDNN_WARN_DEPRECATED)
  target_include_directories(memsig_engine SYSTEM PRIVATE "${CUDNN_INCLUDE_DIR}")
  target_link_libraries(memsig_engine PUBLIC CUDA::cudart CUDA::cublas "${CUDNN_LIBRARY}")
  message(STATUS "CUDA: nvcc ${CUDAToolkit_VERSION} (${MEMSIG_NVCC}), cuDNN ${_cudnn_major} (${CUDNN_LIBRARY}), "
                 "archs ${MEMSIG_CUDA_ARCHS}")
else()
  message(STATUS "CUDA: off (the CPU build; -DMEMSIG_CUDA=ON with nvcc and cuDNN installed builds --device cuda)")
endif()
