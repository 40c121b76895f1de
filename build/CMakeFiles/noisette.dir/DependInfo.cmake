
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/cli/cmd_audit.c" "CMakeFiles/noisette.dir/src/cli/cmd_audit.c.o" "gcc" "CMakeFiles/noisette.dir/src/cli/cmd_audit.c.o.d"
  "/work/main/src/cli/cmd_labels.c" "CMakeFiles/noisette.dir/src/cli/cmd_labels.c.o" "gcc" "CMakeFiles/noisette.dir/src/cli/cmd_labels.c.o.d"
  "/work/main/src/cli/main.c" "CMakeFiles/noisette.dir/src/cli/main.c.o" "gcc" "CMakeFiles/noisette.dir/src/cli/main.c.o.d"
  "/work/main/src/cli/util.c" "CMakeFiles/noisette.dir/src/cli/util.c.o" "gcc" "CMakeFiles/noisette.dir/src/cli/util.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/CMakeFiles/noisette_core.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
