function(meeting_apply_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough)
  if(MEETING_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
