file(REMOVE_RECURSE
  "CMakeFiles/noisette.dir/src/cli/cmd_audit.c.o"
  "CMakeFiles/noisette.dir/src/cli/cmd_audit.c.o.d"
  "CMakeFiles/noisette.dir/src/cli/cmd_labels.c.o"
  "CMakeFiles/noisette.dir/src/cli/cmd_labels.c.o.d"
  "CMakeFiles/noisette.dir/src/cli/main.c.o"
  "CMakeFiles/noisette.dir/src/cli/main.c.o.d"
  "CMakeFiles/noisette.dir/src/cli/util.c.o"
  "CMakeFiles/noisette.dir/src/cli/util.c.o.d"
  "noisette"
  "noisette.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/noisette.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
