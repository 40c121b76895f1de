/* Human names of the classes noisette knows by identifier: the ImageNet
 * wnids of Imagenette and Imagewoof (spec: reference-training.md §11.4). */
#ifndef NOISETTE_LABELS_CLASS_NAMES_H
#define NOISETTE_LABELS_CLASS_NAMES_H

/* The display name of a label ("tench" for n01440764), or NULL if unknown. */
const char *class_display_name(const char *label);

/* "imagenette" or "imagewoof" when the n labels are all that dataset's
 * wnids (n >= 1), else NULL. */
const char *class_set_name(const char *const *labels, int n);

#endif
