file(REMOVE_RECURSE
  "CMakeFiles/noisette_core.dir/src/data/fashion_mnist.c.o"
  "CMakeFiles/noisette_core.dir/src/data/fashion_mnist.c.o.d"
  "CMakeFiles/noisette_core.dir/src/data/folder.c.o"
  "CMakeFiles/noisette_core.dir/src/data/folder.c.o.d"
  "CMakeFiles/noisette_core.dir/src/data/idx.c.o"
  "CMakeFiles/noisette_core.dir/src/data/idx.c.o.d"
  "CMakeFiles/noisette_core.dir/src/labels/audit.c.o"
  "CMakeFiles/noisette_core.dir/src/labels/audit.c.o.d"
  "CMakeFiles/noisette_core.dir/src/labels/class_names.c.o"
  "CMakeFiles/noisette_core.dir/src/labels/class_names.c.o.d"
  "CMakeFiles/noisette_core.dir/src/labels/csv.c.o"
  "CMakeFiles/noisette_core.dir/src/labels/csv.c.o.d"
  "CMakeFiles/noisette_core.dir/src/labels/label_table.c.o"
  "CMakeFiles/noisette_core.dir/src/labels/label_table.c.o.d"
  "CMakeFiles/noisette_core.dir/src/labels/matrix_csv.c.o"
  "CMakeFiles/noisette_core.dir/src/labels/matrix_csv.c.o.d"
  "CMakeFiles/noisette_core.dir/src/labels/noise.c.o"
  "CMakeFiles/noisette_core.dir/src/labels/noise.c.o.d"
  "CMakeFiles/noisette_core.dir/src/util/err.c.o"
  "CMakeFiles/noisette_core.dir/src/util/err.c.o.d"
  "CMakeFiles/noisette_core.dir/src/util/fileio.c.o"
  "CMakeFiles/noisette_core.dir/src/util/fileio.c.o.d"
  "CMakeFiles/noisette_core.dir/src/util/log.c.o"
  "CMakeFiles/noisette_core.dir/src/util/log.c.o.d"
  "CMakeFiles/noisette_core.dir/src/util/rng.c.o"
  "CMakeFiles/noisette_core.dir/src/util/rng.c.o.d"
  "CMakeFiles/noisette_core.dir/src/util/strmap.c.o"
  "CMakeFiles/noisette_core.dir/src/util/strmap.c.o.d"
  "libnoisette_core.a"
  "libnoisette_core.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/noisette_core.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
