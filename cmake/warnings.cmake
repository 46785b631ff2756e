# Warnings for our own targets; errors when MMM_WERROR is on (CI).
function(mmm_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
  if(MMM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
