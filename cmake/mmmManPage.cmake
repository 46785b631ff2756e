# Builds one gzipped man page from a program's own --help, so the page can
# never drift from the program (run at build time by cmake/mmmPackaging.cmake):
#
#   cmake -DPROGRAM=<built binary> -DNAME=mmmctl -DSECTION=1 -DVERSION=0.1.0
#         -DHELP2MAN=<help2man> -DGZIP=<gzip> -DINCLUDE=<hand-written .h2m>
#         -DWORK_DIR=<dir> -DOUTPUT=<page.gz> -P mmmManPage.cmake
#
# help2man turns `PROGRAM --help` into the page (NAME from its first line,
# SYNOPSIS, OPTIONS, the subcommand list, the footer); INCLUDE adds prose
# (DESCRIPTION, ENVIRONMENT, FILES, SEE ALSO). For a program with
# subcommands, a COMMANDS section is made of each `PROGRAM SUB --help` listed
# under "Subcommands:", so a new subcommand appears in the page by itself.
cmake_minimum_required(VERSION 3.25)
foreach(var PROGRAM NAME SECTION VERSION HELP2MAN GZIP INCLUDE WORK_DIR OUTPUT)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "mmmManPage.cmake: ${var} is not set")
  endif()
endforeach()

# Runs PROGRAM with ARGN; its stdout in `out_var`.
function(mmm_help out_var)
  execute_process(COMMAND ${PROGRAM} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 30)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NAME} ${ARGN} failed (${rc}): ${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

# Text as a CMake list of lines. ';' and brackets (which would merge list
# elements) become placeholders, restored by mmm_plain.
function(mmm_lines out_var text)
  string(REPLACE ";" "<mmm-semicolon>" text "${text}")
  string(REPLACE "[" "<mmm-lb>" text "${text}")
  string(REPLACE "]" "<mmm-rb>" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(${out_var} "${lines}" PARENT_SCOPE)
endfunction()

# A line of mmm_lines as it was.
function(mmm_plain out_var text)
  string(REPLACE "<mmm-semicolon>" ";" text "${text}")
  string(REPLACE "<mmm-lb>" "[" text "${text}")
  string(REPLACE "<mmm-rb>" "]" text "${text}")
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# Plain text to roff: backslashes and hyphens escaped, no control character
# at the start of a line.
function(mmm_roff out_var text)
  mmm_plain(text "${text}")
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  if(text MATCHES "^[.']")
    set(text "\\&${text}")
  endif()
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# One subcommand's --help as a roff subsection: its usage as the title, its
# description, then its positionals and options (without --help) as tagged
# paragraphs. Stops at the first unindented line that is not a list heading:
# the footer, which the main page already has.
function(mmm_subcommand_roff out_var sub)
  mmm_help(help ${sub} --help)
  mmm_lines(lines "${help}")
  set(description "")
  set(usage "${NAME} ${sub}")
  set(items "")
  set(term "")
  set(text "")
  set(state head)
  foreach(line IN LISTS lines)
    if(state STREQUAL "head")
      if(line MATCHES "^Usage: (.*)$")
        set(usage "${CMAKE_MATCH_1}")
        set(state lists)
      elseif(NOT line STREQUAL "")
        string(APPEND description "${line} ")
      endif()
      continue()
    endif()
    if(line MATCHES "^  ([^ ].*)$")  # a new entry: "  TERM   TEXT" or "  TERM"
      list(APPEND items "${term}<mmm-tab>${text}")
      set(entry "${CMAKE_MATCH_1}")
      if(entry MATCHES "^([^ ]+( [^ ]+)*)   *(.*)$")
        set(term "${CMAKE_MATCH_1}")
        set(text "${CMAKE_MATCH_3}")
      else()
        set(term "${entry}")
        set(text "")
      endif()
    elseif(line MATCHES "^     *([^ ].*)$")  # a wrapped description
      string(APPEND text " ${CMAKE_MATCH_1}")
    elseif(line MATCHES "^(Positionals|Options|Subcommands):$" OR line STREQUAL "")
      # a list heading or the blank line between lists
    else()
      break()  # the footer
    endif()
  endforeach()
  list(APPEND items "${term}<mmm-tab>${text}")

  mmm_roff(usage_roff "${usage}")
  string(STRIP "${description}" description)
  mmm_roff(description_roff "${description}")
  set(roff ".SS \"${usage_roff}\"\n${description_roff}\n")
  foreach(item IN LISTS items)
    if(NOT item MATCHES "^([^<]+)<mmm-tab>(.*)$")
      continue()  # the empty entry before the first one
    endif()
    set(term "${CMAKE_MATCH_1}")
    set(text "${CMAKE_MATCH_2}")
    if(term MATCHES "(^|,)--help( |$)")
      continue()
    endif()
    # The option names in bold, their value type as is.
    if(term MATCHES "^([^ ]+)(.*)$")
      mmm_roff(names "${CMAKE_MATCH_1}")
      mmm_roff(rest "${CMAKE_MATCH_2}")
    endif()
    mmm_roff(text "${text}")
    string(APPEND roff ".TP\n\\fB${names}\\fR${rest}\n${text}\n")
  endforeach()
  set(${out_var} "${roff}" PARENT_SCOPE)
endfunction()

file(MAKE_DIRECTORY ${WORK_DIR})
mmm_help(main_help --help)
mmm_lines(main_lines "${main_help}")

# NAME: the first line of --help, "PROGRAM: what it is".
list(GET main_lines 0 first_line)
string(REGEX REPLACE "^${NAME}: *" "" summary "${first_line}")
mmm_plain(summary "${summary}")

# COMMANDS: every subcommand listed under "Subcommands:".
set(subcommands "")
set(in_list FALSE)
foreach(line IN LISTS main_lines)
  if(line STREQUAL "Subcommands:")
    set(in_list TRUE)
  elseif(in_list AND line MATCHES "^  ([a-z][a-z0-9_-]*)( |$)")
    list(APPEND subcommands "${CMAKE_MATCH_1}")
  elseif(in_list AND NOT line MATCHES "^   ")
    set(in_list FALSE)
  endif()
endforeach()
set(includes --include=${INCLUDE})
if(subcommands)
  set(generated ${WORK_DIR}/${NAME}.commands.h2m)
  list(APPEND includes --include=${generated})
  set(commands "[COMMANDS]\nEach command also takes the options above; \\fB${NAME} COMMAND \\-\\-help\\fR shows its own.\n")
  foreach(sub IN LISTS subcommands)
    mmm_subcommand_roff(roff ${sub})
    string(APPEND commands "${roff}")
  endforeach()
  file(WRITE ${generated} "${commands}")
endif()

set(page ${WORK_DIR}/${NAME}.${SECTION})
execute_process(
  COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=${SECTION} "--name=${summary}"
          "--version-string=${NAME} ${VERSION}" ${includes}
          --output=${page} ${PROGRAM}
  RESULT_VARIABLE rc ERROR_VARIABLE err TIMEOUT 60)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man failed for ${NAME} (${rc}): ${err}")
endif()
# -n: no name or time stamp in the gzip header (reproducible, as lintian wants).
execute_process(COMMAND ${GZIP} -9 -n -c ${page} OUTPUT_FILE ${OUTPUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUTPUT})
  message(FATAL_ERROR "gzip of ${page} failed (${rc})")
endif()
