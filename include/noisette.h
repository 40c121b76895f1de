/* noisette's public header: the modules one layer may call in another.
 * Layers, each depending only on those above it: util, get, labels, data,
 * nn, train, report, cli (see docs/architecture.md). */
#ifndef NOISETTE_H
#define NOISETTE_H

#include "util/err.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/rng.h"
#include "util/strmap.h"

#include "get/datasets.h"
#include "get/download.h"
#include "get/extract.h"
#include "get/get.h"
#include "get/verify.h"

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

#include "nn/backend.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "nn/tensor.h"

#include "train/checkpoint.h"
#include "train/loop.h"
#include "train/loss.h"
#include "train/methods.h"
#include "train/metrics.h"
#include "train/optim.h"
#include "train/schedule.h"

#include "report/baseline.h"
#include "report/board.h"
#include "report/confident.h"
#include "report/plot.h"
#include "report/probs.h"
#include "report/results.h"

#endif
