# Debian packages: `cpack -G DEB` in a build tree configured with
# -DCMAKE_INSTALL_PREFIX=/usr (scripts/package.sh does everything), one
# package per install component:
#
#   runtime -> mmm          mmmd, mmmctl, systemd units, sysusers.d,
#                           /etc/default/mmmd, man pages, bash completion, docs
#   devel   -> libmmm-dev   headers, libmmm.a, the CMake package, mmm.pc
#   python  -> python3-mmm  the Python package (python/, cmake/mmmPython.cmake),
#                           when it is built: it installs COMPONENT python
#                           before this file is included.
#
# Version and maintainer come from the top entry of packaging/debian/changelog,
# whose upstream part must be PROJECT_VERSION (scripts/package.sh checks).
# Each package gets /usr/share/doc/<package>/copyright (machine-readable,
# made from LICENSE) and changelog.Debian.gz, installed only by CPack
# (EXCLUDE_FROM_ALL): a plain `cmake --install` does not get them.

# --- the Debian changelog: version, maintainer ------------------------------------
set(_mmm_debian ${PROJECT_SOURCE_DIR}/packaging/debian)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_mmm_debian}/changelog
                                                               ${PROJECT_SOURCE_DIR}/LICENSE)
file(STRINGS ${_mmm_debian}/changelog _mmm_changelog)
list(GET _mmm_changelog 0 _mmm_top)
if(NOT _mmm_top MATCHES "^mmm \\(([^)]+)-([^)-]+)\\) ")
  message(FATAL_ERROR "packaging/debian/changelog: cannot read the version of '${_mmm_top}'")
endif()
set(MMM_DEB_UPSTREAM_VERSION ${CMAKE_MATCH_1})
set(MMM_DEB_REVISION ${CMAKE_MATCH_2})
if(NOT MMM_DEB_UPSTREAM_VERSION STREQUAL PROJECT_VERSION)
  message(WARNING "packaging/debian/changelog starts with ${MMM_DEB_UPSTREAM_VERSION}-"
                  "${MMM_DEB_REVISION} but the project is ${PROJECT_VERSION}: add an entry "
                  "(dch -v ${PROJECT_VERSION}-1) before building packages")
endif()
set(MMM_DEB_MAINTAINER "")
foreach(_line IN LISTS _mmm_changelog)
  if(_line MATCHES "^ -- (.+ <[^>]+>)  ")
    set(MMM_DEB_MAINTAINER "${CMAKE_MATCH_1}")
    break()
  endif()
endforeach()

# --- copyright (DEP-5) from LICENSE ---------------------------------------------------
file(STRINGS ${PROJECT_SOURCE_DIR}/LICENSE _mmm_license)
set(_mmm_copyright_holder "")
set(_mmm_license_text "")
set(_mmm_in_text FALSE)
foreach(_line IN LISTS _mmm_license)
  if(_line MATCHES "^Copyright \\(c\\) (.+)$")
    set(_mmm_copyright_holder "${CMAKE_MATCH_1}")
    set(_mmm_in_text TRUE)
  elseif(_mmm_in_text)
    if(_line STREQUAL "")
      string(APPEND _mmm_license_text " .\n")
    else()
      string(APPEND _mmm_license_text " ${_line}\n")
    endif()
  endif()
endforeach()
string(REGEX REPLACE "^ \\.\n" "" _mmm_license_text "${_mmm_license_text}")
if(_mmm_copyright_holder STREQUAL "" OR _mmm_license_text STREQUAL "")
  message(FATAL_ERROR "cannot read the copyright line and the license text of LICENSE")
endif()
set(_mmm_deb_gen ${PROJECT_BINARY_DIR}/packaging/debian)
file(WRITE ${_mmm_deb_gen}/copyright
     "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
     "Upstream-Name: mmm\n"
     "Upstream-Contact: ${MMM_DEB_MAINTAINER}\n\n"
     "Files: *\n"
     "Copyright: ${_mmm_copyright_holder}\n"
     "License: Expat\n\n"
     "License: Expat\n"
     "${_mmm_license_text}")

# changelog.Debian.gz: -9n, no name or time in the header (lintian, reproducible).
find_program(MMM_GZIP gzip REQUIRED)
execute_process(COMMAND ${MMM_GZIP} -9 -n -c ${_mmm_debian}/changelog
                OUTPUT_FILE ${_mmm_deb_gen}/changelog.Debian.gz RESULT_VARIABLE _mmm_rc)
if(NOT _mmm_rc EQUAL 0)
  message(FATAL_ERROR "gzip of packaging/debian/changelog failed")
endif()

# Maintainer scripts and conffiles of mmm, with the install paths filled in.
foreach(_script postinst prerm postrm)
  configure_file(${_mmm_debian}/${_script}.in ${_mmm_deb_gen}/${_script} @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                                  GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
configure_file(${_mmm_debian}/conffiles.in ${_mmm_deb_gen}/conffiles @ONLY)

# --- the packages -----------------------------------------------------------------------
get_cmake_property(_mmm_components COMPONENTS)
set(_mmm_packages runtime:mmm devel:libmmm-dev)
if("python" IN_LIST _mmm_components)
  list(APPEND _mmm_packages python:python3-mmm)
endif()
set(CPACK_COMPONENTS_ALL "")
foreach(_entry IN LISTS _mmm_packages)
  string(REPLACE ":" ";" _entry "${_entry}")
  list(GET _entry 0 _component)
  list(GET _entry 1 _package)
  list(APPEND CPACK_COMPONENTS_ALL ${_component})
  string(TOUPPER ${_component} _upper)
  set(CPACK_DEBIAN_${_upper}_PACKAGE_NAME ${_package})
  install(FILES ${_mmm_deb_gen}/copyright ${_mmm_deb_gen}/changelog.Debian.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${_package}
          COMPONENT ${_component} EXCLUDE_FROM_ALL)
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mmm)
set(CPACK_PACKAGE_VENDOR "The mmm developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${MMM_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
# /etc/default/mmmd is an absolute destination: install into a DESTDIR.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
# ... and static libraries lose their debug sections (dh_strip's rule).
set(CPACK_MMM_STRIP ${CMAKE_STRIP})
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/mmmCPackStrip.cmake)
set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR}/packages)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${MMM_DEB_REVISION})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${MMM_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SOURCE mmm)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Descriptions: a synopsis line, then the extended description. CPackDeb
# puts CPACK_PACKAGE_DESCRIPTION_SUMMARY above each one unless it is CPack's
# own default: keep that default, so each package has its own synopsis.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
string(CONCAT _mmm_about
  "mmm is manual memory management across processes, in C++20: a process\n"
  "creates a named, typed chunk (an array of trivially copyable elements),\n"
  "other processes on the same host open it by name and read and write the\n"
  "same memory at the speed of plain memory, until someone deletes it.\n")

# mmm: the daemon and the admin tool, as a system service.
string(CONCAT CPACK_COMPONENT_RUNTIME_DESCRIPTION
  "shared-memory chunk registry daemon (mmmd) and admin tool (mmmctl)\n"
  "${_mmm_about}\n"
  "This package holds mmmd, the registry daemon every mmm program talks to,\n"
  "with a systemd unit for a system-wide daemon shared by the members of\n"
  "group mmm (socket /run/mmm/mmmd.sock) and a user unit for a per-user\n"
  "daemon, and mmmctl, which lists, inspects, dumps and deletes chunks.")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
# The postinst makes user mmm with systemd-sysusers where it exists, else
# with adduser (lintian wants the plain dependency for the fallback).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${_mmm_deb_gen}/postinst ${_mmm_deb_gen}/prerm ${_mmm_deb_gen}/postrm
    ${_mmm_deb_gen}/conffiles)

# libmmm-dev: what a program needs to build against mmm. The public headers
# may use Boost (header-only): depend on the Boost headers of this build.
string(CONCAT CPACK_COMPONENT_DEVEL_DESCRIPTION
  "shared-memory chunk library (development files)\n"
  "${_mmm_about}\n"
  "This package holds the C++ headers (mmm/mmm.hpp), the static library\n"
  "libmmm.a, the CMake package (find_package(mmm), target mmm::mmm) and the\n"
  "pkg-config file mmm.pc. Programs using it need a running mmmd (package mmm).")
set(CPACK_DEBIAN_DEVEL_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVEL_PACKAGE_DEPENDS
    "libboost${Boost_VERSION_MAJOR}.${Boost_VERSION_MINOR}-dev | libboost-dev (>= ${Boost_VERSION_MAJOR}.${Boost_VERSION_MINOR})")
set(CPACK_DEBIAN_DEVEL_PACKAGE_RECOMMENDS mmm)

# python3-mmm, when python/ installs a `python` component.
string(CONCAT CPACK_COMPONENT_PYTHON_DESCRIPTION
  "Python bindings of mmm shared-memory chunks\n"
  "${_mmm_about}\n"
  "This package maps mmm chunks from Python as numpy structured arrays,\n"
  "without copies. Programs using it need a running mmmd (package mmm).")
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
set(CPACK_DEBIAN_PYTHON_PACKAGE_SHLIBDEPS ON)
# MMM_PYTHON_DEB_DEPENDS (cmake/mmmPython.cmake) pins the Python version the
# extension was built for.
if(DEFINED MMM_PYTHON_DEB_DEPENDS)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "${MMM_PYTHON_DEB_DEPENDS}")
else()
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "python3, python3-numpy")
endif()
set(CPACK_DEBIAN_PYTHON_PACKAGE_RECOMMENDS mmm)

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "mmm: packages built from this tree install under ${CMAKE_INSTALL_PREFIX}; "
                 "Debian packages want -DCMAKE_INSTALL_PREFIX=/usr (scripts/package.sh)")
endif()
include(CPack)
