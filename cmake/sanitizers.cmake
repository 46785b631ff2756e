# -DMMM_SANITIZE=address,undefined or -DMMM_SANITIZE=thread applies to every target.
if(MMM_SANITIZE)
  set(_mmm_san_flags -fsanitize=${MMM_SANITIZE} -fno-omit-frame-pointer -g)
  if(MMM_SANITIZE MATCHES "undefined")
    list(APPEND _mmm_san_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_mmm_san_flags})
  add_link_options(-fsanitize=${MMM_SANITIZE})
endif()
