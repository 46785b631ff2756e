# CPACK_PRE_BUILD_SCRIPTS hook (cmake/mmmCPack.cmake): finishes stripping in
# CPack's staging tree the way dh_strip does for Debian packages.
# CPACK_STRIP_FILES strips the programs but keeps their .comment and .note
# sections, and leaves static libraries alone (libmmm.a built with -g is ten
# times its stripped size).
file(GLOB_RECURSE _mmm_archives "${CPACK_TEMPORARY_DIRECTORY}/*.a")
file(GLOB _mmm_programs "${CPACK_TEMPORARY_DIRECTORY}/*/usr/bin/*")

# mmm_strip(<file> <strip options>...)
function(mmm_strip file)
  execute_process(COMMAND ${CPACK_MMM_STRIP} ${ARGN} ${file} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "strip of ${file} failed: ${err}")
  endif()
endfunction()

foreach(_archive IN LISTS _mmm_archives)
  mmm_strip(${_archive} --strip-debug --remove-section=.comment --remove-section=.note
            --enable-deterministic-archives)
endforeach()
foreach(_program IN LISTS _mmm_programs)
  mmm_strip(${_program} --remove-section=.comment --remove-section=.note)
endforeach()
