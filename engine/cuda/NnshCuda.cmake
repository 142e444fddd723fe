# Finding CUDA, cuBLAS and cuDNN for the optional GPU backend (nnsh_cuda).
#
# NNSH_CUDA=AUTO (default) builds the backend when nvcc, the toolkit and cuDNN are all
# found and otherwise says once why it is not built; ON makes their absence an error;
# OFF never looks. Sets NNSH_CUDA_ENABLED and, when it is on, the imported target
# nnsh::cudnn. Hints: CUDAToolkit_ROOT (or CUDA_PATH) for the toolkit, CUDNN_ROOT for
# cuDNN (a directory with include/cudnn.h and lib/libcudnn.so*, such as a Python
# environment's site-packages/nvidia/cudnn).

set(NNSH_CUDA AUTO CACHE STRING "Build the CUDA backend: AUTO, ON or OFF")
set_property(CACHE NNSH_CUDA PROPERTY STRINGS AUTO ON OFF)
set(CUDNN_ROOT "" CACHE PATH "Where cuDNN is (include/cudnn.h, lib/libcudnn.so*)")
set(NNSH_CUDA_ENABLED OFF)

string(TOUPPER "${NNSH_CUDA}" nnsh_cuda_mode)
if(NOT nnsh_cuda_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "NNSH_CUDA must be AUTO, ON or OFF, got '${NNSH_CUDA}'")
endif()

# Reports why the backend is not built: an error when it was asked for, one status line
# otherwise.
macro(nnsh_cuda_unavailable)
  string(CONCAT nnsh_reason ${ARGV}) # the reason, given in pieces
  if(nnsh_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "NNSH_CUDA=ON but ${nnsh_reason}")
  endif()
  message(STATUS "CUDA backend: not built (${nnsh_reason}); this is the CPU build. "
                 "Configure with -DNNSH_CUDA=ON to make this an error.")
  set(NNSH_CUDA_ENABLED OFF)
  return()
endmacro()

if(nnsh_cuda_mode STREQUAL "OFF")
  message(STATUS "CUDA backend: off (NNSH_CUDA=OFF); this is the CPU build")
  return()
endif()

# nvcc is rarely on PATH: look where toolkits install themselves.
if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  find_program(NNSH_NVCC nvcc
    HINTS ${CUDAToolkit_ROOT} $ENV{CUDAToolkit_ROOT} $ENV{CUDA_PATH} $ENV{CUDA_HOME}
    PATHS /usr/local/cuda /opt/cuda
    PATH_SUFFIXES bin)
  if(NNSH_NVCC)
    set(CMAKE_CUDA_COMPILER "${NNSH_NVCC}")
  endif()
endif()

# Ampere (sm_80) and Hopper (sm_90) as real code, and PTX of sm_90 that newer GPUs
# compile at load time. Must be set before the language is enabled.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES "80-real;90-real;90-virtual")
endif()

# check_language tries the compiler in a separate project, so a toolkit CMake cannot
# drive (too old or too new for this CMake) is a message here, not a failed configure.
include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER OR NOT EXISTS "${CMAKE_CUDA_COMPILER}")
  nnsh_cuda_unavailable("no working CUDA compiler (nvcc) was found: set CUDAToolkit_ROOT "
                        "or CMAKE_CUDA_COMPILER")
endif()
# enable_language fails hard when nvcc cannot build for the architectures asked (a
# toolkit that dropped them, a typo), and check_language does not try them: compile a
# probe for exactly those first.
if(NOT CMAKE_CUDA_ARCHITECTURES MATCHES "^(native|all|all-major)$")
  set(nnsh_probe_dir "${CMAKE_BINARY_DIR}/CMakeFiles/nnsh_cuda_probe")
  file(WRITE "${nnsh_probe_dir}/probe.cu" "__global__ void probe(float *x) { x[0] = 1.0f; }\n")
  set(nnsh_arch_flags "")
  foreach(arch ${CMAKE_CUDA_ARCHITECTURES})
    string(REGEX MATCH "^[0-9]+" number "${arch}")
    if(arch MATCHES "-real$")
      list(APPEND nnsh_arch_flags "-gencode=arch=compute_${number},code=sm_${number}")
    elseif(arch MATCHES "-virtual$")
      list(APPEND nnsh_arch_flags "-gencode=arch=compute_${number},code=compute_${number}")
    else()
      list(APPEND nnsh_arch_flags "-gencode=arch=compute_${number},code=[sm_${number},compute_${number}]")
    endif()
  endforeach()
  execute_process(
    COMMAND "${CMAKE_CUDA_COMPILER}" ${nnsh_arch_flags} -c "${nnsh_probe_dir}/probe.cu"
            -o "${nnsh_probe_dir}/probe.o"
    RESULT_VARIABLE nnsh_probe_result ERROR_VARIABLE nnsh_probe_error OUTPUT_QUIET)
  if(NOT nnsh_probe_result EQUAL 0)
    string(REGEX REPLACE "\n.*" "" nnsh_probe_error "${nnsh_probe_error}")
    string(REPLACE ";" ", " nnsh_archs "${CMAKE_CUDA_ARCHITECTURES}")
    nnsh_cuda_unavailable("${CMAKE_CUDA_COMPILER} cannot build for CMAKE_CUDA_ARCHITECTURES "
                          "${nnsh_archs} (${nnsh_probe_error})")
  endif()
endif()
enable_language(CUDA)
find_package(CUDAToolkit)
if(NOT CUDAToolkit_FOUND OR NOT TARGET CUDA::cudart OR NOT TARGET CUDA::cublas)
  nnsh_cuda_unavailable("the CUDA toolkit's runtime or cuBLAS was not found")
endif()

# cuDNN: beside the toolkit on this project's machines; in site-packages/nvidia/cudnn
# where only a Python environment ships it (there the library is often libcudnn.so.9
# alone, without the unversioned link).
set(nnsh_cudnn_hints ${CUDNN_ROOT} $ENV{CUDNN_ROOT} $ENV{CUDNN_PATH}
    ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR} /usr/local/cuda)
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  execute_process(
    COMMAND ${Python3_EXECUTABLE} -c
      "import site,sys; print(';'.join(site.getsitepackages() + [site.getusersitepackages()]))"
    OUTPUT_VARIABLE nnsh_site_packages OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  foreach(dir ${nnsh_site_packages})
    list(APPEND nnsh_cudnn_hints "${dir}/nvidia/cudnn")
  endforeach()
endif()
find_path(CUDNN_INCLUDE_DIR cudnn.h
  HINTS ${nnsh_cudnn_hints} PATH_SUFFIXES include targets/x86_64-linux/include)
find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 libcudnn.so.8 NAMES_PER_DIR
  HINTS ${nnsh_cudnn_hints} PATH_SUFFIXES lib64 lib lib/x64 targets/x86_64-linux/lib)
if(NOT CUDNN_INCLUDE_DIR OR NOT CUDNN_LIBRARY)
  nnsh_cuda_unavailable("cuDNN was not found (looked for include/cudnn.h and libcudnn in "
                        "CUDNN_ROOT, the toolkit and Python site-packages/nvidia/cudnn): "
                        "set CUDNN_ROOT")
endif()
file(STRINGS "${CUDNN_INCLUDE_DIR}/cudnn_version.h" nnsh_cudnn_major REGEX "define CUDNN_MAJOR ")
string(REGEX MATCH "[0-9]+" nnsh_cudnn_major "${nnsh_cudnn_major}")
if(NOT nnsh_cudnn_major OR nnsh_cudnn_major LESS 8)
  nnsh_cuda_unavailable("cuDNN in ${CUDNN_INCLUDE_DIR} is older than 8 (major "
                        "'${nnsh_cudnn_major}')")
endif()

add_library(nnsh::cudnn UNKNOWN IMPORTED)
set_target_properties(nnsh::cudnn PROPERTIES
  IMPORTED_LOCATION "${CUDNN_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CUDNN_INCLUDE_DIR}")
get_filename_component(NNSH_CUDNN_LIBRARY_DIR "${CUDNN_LIBRARY}" DIRECTORY)
set(NNSH_CUDA_ENABLED ON)
message(STATUS "CUDA backend: built with CUDA ${CUDAToolkit_VERSION} "
               "(${CMAKE_CUDA_COMPILER}), architectures ${CMAKE_CUDA_ARCHITECTURES}, "
               "cuDNN ${nnsh_cudnn_major} (${CUDNN_LIBRARY})")
