# What installs mmmd as a system service, next to the programs (component
# `runtime`, the Debian package `mmm`): systemd units generated from the
# install paths, the sysusers.d file of user mmm, the settings file, man
# pages made from --help, bash completion and the documentation.
# docs/DEPLOYMENT.md says how they are used; cmake/mmmCPack.cmake packs them.
#
# Every destination is relative to CMAKE_INSTALL_PREFIX, so `cmake --install
# --prefix DIR` never writes outside DIR; with the prefix /usr the settings file
# goes to /etc (GNUInstallDirs' rule). systemd also reads units and
# sysusers.d under /usr/local/lib, so a /usr/local install works too.
set(MMM_SYSTEMD_SYSTEM_UNIT_DIR "lib/systemd/system" CACHE STRING
    "systemd system units, relative to CMAKE_INSTALL_PREFIX")
set(MMM_SYSTEMD_USER_UNIT_DIR "lib/systemd/user" CACHE STRING
    "systemd user units, relative to CMAKE_INSTALL_PREFIX")
set(MMM_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING "sysusers.d, relative to CMAKE_INSTALL_PREFIX")
set(MMM_BASH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" CACHE STRING
    "bash completions, relative to CMAKE_INSTALL_PREFIX")

# /etc/default/mmmd for the prefix /usr, <prefix>/etc/default/mmmd otherwise.
if(CMAKE_INSTALL_FULL_SYSCONFDIR STREQUAL "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SYSCONFDIR}")
  set(MMM_DEFAULT_DIR "${CMAKE_INSTALL_SYSCONFDIR}/default")
else()
  set(MMM_DEFAULT_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/default")
endif()
set(MMM_DEFAULT_FILE "${CMAKE_INSTALL_FULL_SYSCONFDIR}/default/mmmd")
set(MMM_SYSUSERS_FILE "${CMAKE_INSTALL_PREFIX}/${MMM_SYSUSERS_DIR}/mmm.conf")

set(_mmm_gen ${PROJECT_BINARY_DIR}/packaging)

# --- systemd units: ExecStart from CMAKE_INSTALL_FULL_BINDIR ------------------
configure_file(packaging/systemd/mmmd.service.in ${_mmm_gen}/system/mmmd.service @ONLY)
configure_file(packaging/systemd/mmmd-user.service.in ${_mmm_gen}/user/mmmd.service @ONLY)
install(FILES ${_mmm_gen}/system/mmmd.service DESTINATION ${MMM_SYSTEMD_SYSTEM_UNIT_DIR})
install(FILES ${_mmm_gen}/user/mmmd.service DESTINATION ${MMM_SYSTEMD_USER_UNIT_DIR})
install(FILES packaging/sysusers.d/mmm.conf DESTINATION ${MMM_SYSUSERS_DIR})
install(FILES packaging/default/mmmd DESTINATION ${MMM_DEFAULT_DIR})
install(FILES packaging/bash-completion/mmmctl DESTINATION ${MMM_BASH_COMPLETION_DIR})

# --- documentation ---------------------------------------------------------------
file(GLOB _mmm_docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES README.md ${_mmm_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# --- man pages from --help (help2man) ------------------------------------------
# Built by running the programs, so not under sanitizers or fuzzing (a TSan
# binary may not even start outside `setarch -R`) nor when cross-compiling.
find_program(MMM_HELP2MAN help2man)
find_program(MMM_GZIP gzip)
set(_mmm_man_default OFF)
if(MMM_HELP2MAN AND MMM_GZIP AND NOT MMM_SANITIZE AND NOT MMM_BUILD_FUZZ AND NOT CMAKE_CROSSCOMPILING)
  set(_mmm_man_default ON)
endif()
option(MMM_BUILD_MAN_PAGES "Build the man pages of mmmd and mmmctl from --help (help2man)"
       ${_mmm_man_default})
if(MMM_BUILD_MAN_PAGES)
  if(NOT MMM_HELP2MAN OR NOT MMM_GZIP)
    message(FATAL_ERROR "MMM_BUILD_MAN_PAGES needs help2man and gzip (apt-get install help2man)")
  endif()
  set(_mmm_pages "")
  # mmm_man_page(<target> <section>): <target>.<section>.gz from `<target> --help`.
  function(mmm_man_page target section)
    set(page ${_mmm_gen}/man/${target}.${section}.gz)
    add_custom_command(
      OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${target}> -DNAME=${target}
              -DSECTION=${section} -DVERSION=${PROJECT_VERSION} -DHELP2MAN=${MMM_HELP2MAN}
              -DGZIP=${MMM_GZIP} -DINCLUDE=${PROJECT_SOURCE_DIR}/packaging/man/${target}.h2m
              -DWORK_DIR=${_mmm_gen}/man/work -DOUTPUT=${page}
              -P ${PROJECT_SOURCE_DIR}/cmake/mmmManPage.cmake
      DEPENDS ${target} ${PROJECT_SOURCE_DIR}/packaging/man/${target}.h2m
              ${PROJECT_SOURCE_DIR}/cmake/mmmManPage.cmake
      COMMENT "Generating the man page ${target}(${section}) from ${target} --help"
      VERBATIM)
    install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
    set(_mmm_pages ${_mmm_pages} ${page} PARENT_SCOPE)
  endfunction()
  mmm_man_page(mmmd 8)
  mmm_man_page(mmmctl 1)
  add_custom_target(mmm_man_pages ALL DEPENDS ${_mmm_pages})
else()
  message(STATUS "mmm: man pages are not built (MMM_BUILD_MAN_PAGES=OFF; needs help2man)")
endif()
