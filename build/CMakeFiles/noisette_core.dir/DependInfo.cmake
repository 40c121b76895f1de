
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/data/fashion_mnist.c" "CMakeFiles/noisette_core.dir/src/data/fashion_mnist.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/data/fashion_mnist.c.o.d"
  "/work/main/src/data/folder.c" "CMakeFiles/noisette_core.dir/src/data/folder.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/data/folder.c.o.d"
  "/work/main/src/data/idx.c" "CMakeFiles/noisette_core.dir/src/data/idx.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/data/idx.c.o.d"
  "/work/main/src/labels/audit.c" "CMakeFiles/noisette_core.dir/src/labels/audit.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/labels/audit.c.o.d"
  "/work/main/src/labels/class_names.c" "CMakeFiles/noisette_core.dir/src/labels/class_names.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/labels/class_names.c.o.d"
  "/work/main/src/labels/csv.c" "CMakeFiles/noisette_core.dir/src/labels/csv.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/labels/csv.c.o.d"
  "/work/main/src/labels/label_table.c" "CMakeFiles/noisette_core.dir/src/labels/label_table.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/labels/label_table.c.o.d"
  "/work/main/src/labels/matrix_csv.c" "CMakeFiles/noisette_core.dir/src/labels/matrix_csv.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/labels/matrix_csv.c.o.d"
  "/work/main/src/labels/noise.c" "CMakeFiles/noisette_core.dir/src/labels/noise.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/labels/noise.c.o.d"
  "/work/main/src/util/err.c" "CMakeFiles/noisette_core.dir/src/util/err.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/util/err.c.o.d"
  "/work/main/src/util/fileio.c" "CMakeFiles/noisette_core.dir/src/util/fileio.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/util/fileio.c.o.d"
  "/work/main/src/util/log.c" "CMakeFiles/noisette_core.dir/src/util/log.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/util/log.c.o.d"
  "/work/main/src/util/rng.c" "CMakeFiles/noisette_core.dir/src/util/rng.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/util/rng.c.o.d"
  "/work/main/src/util/strmap.c" "CMakeFiles/noisette_core.dir/src/util/strmap.c.o" "gcc" "CMakeFiles/noisette_core.dir/src/util/strmap.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
