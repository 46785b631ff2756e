# ctest driver (cmake -P): install the build into a fresh prefix, configure
# and build tests/consumer against it, run the consumer.
foreach(var MMM_BUILD_DIR MMM_CONSUMER_SOURCE MMM_WORK_DIR MMM_CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer_test.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT MMM_BUILD_TYPE)
  set(MMM_BUILD_TYPE RelWithDebInfo)
endif()

set(prefix ${MMM_WORK_DIR}/prefix)
set(build ${MMM_WORK_DIR}/build)
set(nodaemon ${MMM_WORK_DIR}/no-daemon)
file(REMOVE_RECURSE ${MMM_WORK_DIR})
file(MAKE_DIRECTORY ${nodaemon})

# Runs a command; stops the test with its output when it fails. The output of
# the last step is left in MMM_STEP_OUTPUT.
macro(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err
                  TIMEOUT 240)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${_rc}):\n${_out}\n${_err}")
  endif()
  message(STATUS "${what}: ok")
  set(MMM_STEP_OUTPUT "${_out}")
endmacro()

run_step("install" ${CMAKE_COMMAND} --install ${MMM_BUILD_DIR} --prefix ${prefix})
foreach(f include/mmm/mmm.hpp include/mmm/client.hpp)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install did not put ${f} in the prefix")
  endif()
endforeach()
# Private headers (src/) must not reach the prefix.
file(GLOB_RECURSE private_headers ${prefix}/include/*protocol.hpp ${prefix}/include/*names.hpp)
if(private_headers)
  message(FATAL_ERROR "private headers were installed: ${private_headers}")
endif()

run_step("configure consumer" ${CMAKE_COMMAND} -S ${MMM_CONSUMER_SOURCE} -B ${build}
         -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${MMM_CXX_COMPILER}
         -DCMAKE_BUILD_TYPE=${MMM_BUILD_TYPE})
run_step("build consumer" ${CMAKE_COMMAND} --build ${build})
run_step("run consumer" ${build}/app ${nodaemon})
if(NOT MMM_STEP_OUTPUT MATCHES "consumer ok")
  message(FATAL_ERROR "the consumer did not report success: ${MMM_STEP_OUTPUT}")
endif()
# The Python package, when built: installed into <prefix>/MMM_PYTHON_INSTALL_DIR
# and importable from there with PYTHONPATH alone.
if(MMM_PYTHON_INSTALL_DIR)
  set(pydir ${prefix}/${MMM_PYTHON_INSTALL_DIR})
  foreach(f mmm/__init__.py mmm/shared_memory.py mmm/_mmm.pyi mmm/py.typed)
    if(NOT EXISTS ${pydir}/${f})
      message(FATAL_ERROR "install did not put ${MMM_PYTHON_INSTALL_DIR}/${f} in the prefix")
    endif()
  endforeach()
  run_step("import the installed mmm" ${CMAKE_COMMAND} -E env PYTHONPATH=${pydir}
           ${MMM_PYTHON_EXECUTABLE} -c [=[
import sys, mmm
assert mmm.__file__.startswith(sys.argv[1]), mmm.__file__
try:
    mmm.Client(sys.argv[2])
except ConnectionError as e:
    print("python ok:", type(e).__name__)
]=] ${pydir} ${nodaemon})
  if(NOT MMM_STEP_OUTPUT MATCHES "python ok: DaemonUnavailableError")
    message(FATAL_ERROR "the installed package did not work: ${MMM_STEP_OUTPUT}")
  endif()
endif()
file(REMOVE_RECURSE ${MMM_WORK_DIR})
