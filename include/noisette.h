/* noisette's public header: the modules one layer may call in another.
 * Layers, each depending only on those above it: util, labels, data, nn,
 * train, report, cli (see docs/architecture.md). */
#ifndef NOISETTE_H
#define NOISETTE_H

#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/rng.h"
#include "util/strmap.h"

#include "labels/audit.h"
#include "labels/class_names.h"
#include "labels/csv.h"
#include "labels/label_table.h"
#include "labels/matrix_csv.h"
#include "labels/noise.h"

#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "data/folder.h"
#include "data/idx.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/sample.h"
#include "data/transform.h"

#endif
