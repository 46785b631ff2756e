# -DMMM_SANITIZE=address,undefined or -DMMM_SANITIZE=thread applies to every target.
if(MMM_SANITIZE)
  set(_mmm_san_flags -fsanitize=${MMM_SANITIZE} -fno-omit-frame-pointer -g)
  if(MMM_SANITIZE MATCHES "undefined")
    # Not vptr: that check tests memory through a pipe, so in a process at its
    # open-file limit (mmmd and clients under prlimit in the descriptor tests)
    # it calls every polymorphic object invalid. ASan still checks the memory.
    list(APPEND _mmm_san_flags -fno-sanitize-recover=undefined -fno-sanitize=vptr)
  endif()
  add_compile_options(${_mmm_san_flags})
  add_link_options(-fsanitize=${MMM_SANITIZE})
endif()
