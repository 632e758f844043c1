# Writes OUT (a header defining RCL_COMMIT) from `git describe` of SRC, rewriting it only when
# the commit changed, so a build after a new commit records it and other builds recompile
# nothing. "unknown" outside a git checkout; "-dirty" when the tree has uncommitted changes.
execute_process(COMMAND git -C ${SRC} describe --always --dirty --abbrev=12
  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT commit)
  set(commit unknown)
endif()
set(text "#define RCL_COMMIT \"${commit}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUT} "${text}")
endif()
