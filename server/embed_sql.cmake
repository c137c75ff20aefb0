# embed_sql(IN OUT NAME HEADER): writes the C file OUT, which includes HEADER and defines
# `const char NAME[]` as the text of the SQL file IN (escaped, one literal per line); OUT is
# rewritten only when it would change. server/CMakeLists.txt calls it at configure time;
# tests/fuzz/run.sh, which builds without CMake, runs this file as a script:
#   cmake -DIN=... -DOUT=... -DNAME=... -DHEADER=... -P server/embed_sql.cmake
function(embed_sql in out name header)
  file(READ ${in} text)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  string(REPLACE "\n" "\\n\"\n\t\"" text "${text}")
  file(CONFIGURE OUTPUT ${out} CONTENT
    "/* Generated from ${in} by server/embed_sql.cmake: edit that file. */\n#include \"${header}\"\n\nconst char ${name}[] =\n\t\"${text}\";\n"
    @ONLY)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  embed_sql(${IN} ${OUT} ${NAME} ${HEADER})
endif()
