/* Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017) from the IDX files Debian's
 * dataset-fashion-mnist package installs: 60,000 training and 10,000 test
 * images of 28x28 grey pixels in 10 classes. noisette names rows
 * "train/00042" and "val/00042" (the test set is the clean validation set)
 * and labels them with the class names below. */
#ifndef NOISETTE_DATA_FASHION_MNIST_H
#define NOISETTE_DATA_FASHION_MNIST_H

#include "labels/label_table.h"

#define FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define FMNIST_CLASSES     10

/* Class names in Fashion-MNIST's own label order (0 = tshirt_top). */
extern const char *const FMNIST_CLASS_NAMES[FMNIST_CLASSES];

/* Builds the truth-only label table of Fashion-MNIST from dir (NULL: the
 * default folder): training rows, then validation rows. */
int fmnist_label_table(const char *dir, LabelTable *t);

#endif
