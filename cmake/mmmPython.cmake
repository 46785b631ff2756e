# The Python package (python/): option MMM_BUILD_PYTHON, on by default when
# the system interpreter, its headers, pybind11 and numpy are found.
#
# The interpreter is MMM_PYTHON_EXECUTABLE: /usr/bin/python3 where it exists
# (Debian's python3-numpy, python3-pytest and pybind11-dev belong to it), so
# another python3 earlier on PATH (pyenv, a virtualenv) changes nothing unless
# it is chosen on purpose (-DMMM_PYTHON_EXECUTABLE=...).
#
# Not under MMM_SANITIZE: a sanitized extension needs the sanitizer runtime
# preloaded into an unsanitized python; the ctest python.pytest then reports
# itself skipped, with that reason.
#
# Installed into ${CMAKE_INSTALL_PREFIX}/${MMM_PYTHON_INSTALL_DIR}/mmm:
#   prefix /usr        lib/python3/dist-packages       (Debian's own, on sys.path)
#   prefix /usr/local  lib/python3.X/dist-packages     (Debian's local, on sys.path)
#   other prefixes     lib/python3.X/site-packages     (add it to PYTHONPATH)
if(EXISTS /usr/bin/python3)
  set(_mmm_python_default /usr/bin/python3)
else()
  find_program(_mmm_python_found NAMES python3)
  set(_mmm_python_default "${_mmm_python_found}")
endif()
set(MMM_PYTHON_EXECUTABLE "${_mmm_python_default}" CACHE FILEPATH
    "The Python interpreter the package is built for and tested with")

set(_mmm_python_missing "")
if(MMM_SANITIZE)
  set(_mmm_python_missing "MMM_SANITIZE=${MMM_SANITIZE}: a sanitized extension cannot load in an unsanitized python")
elseif(MMM_BUILD_FUZZ)
  set(_mmm_python_missing "MMM_BUILD_FUZZ is on")
elseif(NOT MMM_PYTHON_EXECUTABLE)
  set(_mmm_python_missing "no python3 interpreter")
else()
  set(Python_EXECUTABLE ${MMM_PYTHON_EXECUTABLE})
  set(PYBIND11_FINDPYTHON ON)
  find_package(pybind11 2.6 CONFIG QUIET)
  if(NOT pybind11_FOUND)
    set(_mmm_python_missing "pybind11 was not found (Debian: pybind11-dev)")
  elseif(NOT Python_Development.Module_FOUND AND NOT Python_Development_FOUND)
    set(_mmm_python_missing "the headers of ${MMM_PYTHON_EXECUTABLE} were not found (Debian: python3-dev)")
  else()
    execute_process(COMMAND ${MMM_PYTHON_EXECUTABLE} -c "import numpy"
                    RESULT_VARIABLE _mmm_numpy_rc OUTPUT_QUIET ERROR_QUIET)
    if(NOT _mmm_numpy_rc EQUAL 0)
      set(_mmm_python_missing "${MMM_PYTHON_EXECUTABLE} cannot import numpy (Debian: python3-numpy)")
    endif()
  endif()
endif()

if(_mmm_python_missing STREQUAL "")
  option(MMM_BUILD_PYTHON "Build the Python package mmm (python/)" ON)
else()
  option(MMM_BUILD_PYTHON "Build the Python package mmm (python/)" OFF)
  if(MMM_BUILD_PYTHON)
    message(FATAL_ERROR "MMM_BUILD_PYTHON is ON but ${_mmm_python_missing}")
  endif()
  message(STATUS "mmm: not building the Python package: ${_mmm_python_missing}")
endif()

if(MMM_BUILD_PYTHON)
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(_mmm_python_dir_default lib/python3/dist-packages)
  elseif(CMAKE_INSTALL_PREFIX STREQUAL "/usr/local")
    set(_mmm_python_dir_default lib/python${Python_VERSION_MAJOR}.${Python_VERSION_MINOR}/dist-packages)
  else()
    set(_mmm_python_dir_default lib/python${Python_VERSION_MAJOR}.${Python_VERSION_MINOR}/site-packages)
  endif()
  set(MMM_PYTHON_INSTALL_DIR "${_mmm_python_dir_default}" CACHE STRING
      "Where the package mmm is installed, relative to CMAKE_INSTALL_PREFIX")
  # python3-mmm holds an extension built for this Python version only.
  math(EXPR _mmm_python_next_minor "${Python_VERSION_MINOR} + 1")
  set(MMM_PYTHON_DEB_DEPENDS
      "python3 (>= ${Python_VERSION_MAJOR}.${Python_VERSION_MINOR}~), python3 (<< ${Python_VERSION_MAJOR}.${_mmm_python_next_minor}), python3-numpy")
  message(STATUS "mmm: Python package for ${MMM_PYTHON_EXECUTABLE} (${Python_VERSION}), "
                 "installed into <prefix>/${MMM_PYTHON_INSTALL_DIR}")
  add_subdirectory(python)
elseif(MMM_BUILD_TESTS AND MMM_SANITIZE)
  # Say why the Python tests do not run, rather than leaving them out silently.
  add_test(NAME python.pytest
           COMMAND ${CMAKE_COMMAND} -E echo "SKIPPED: ${_mmm_python_missing}")
  set_tests_properties(python.pytest PROPERTIES SKIP_REGULAR_EXPRESSION "SKIPPED:"
                                                LABELS "python")
endif()
