/* Display names of the Imagenette and Imagewoof wnids. */
#include "labels/class_names.h"

#include <string.h>

static const char *const KNOWN[][2] = {
    /* Imagenette */
    {"n01440764", "tench"},
    {"n02102040", "English springer"},
    {"n02979186", "cassette player"},
    {"n03000684", "chain saw"},
    {"n03028079", "church"},
    {"n03394916", "French horn"},
    {"n03417042", "garbage truck"},
    {"n03425413", "gas pump"},
    {"n03445777", "golf ball"},
    {"n03888257", "parachute"},
    /* Imagewoof */
    {"n02086240", "Shih-Tzu"},
    {"n02087394", "Rhodesian ridgeback"},
    {"n02088364", "beagle"},
    {"n02089973", "English foxhound"},
    {"n02093754", "Border terrier"},
    {"n02096294", "Australian terrier"},
    {"n02099601", "golden retriever"},
    {"n02105641", "Old English sheepdog"},
    {"n02111889", "Samoyed"},
    {"n02115641", "dingo"},
};

const char *class_display_name(const char *label) {
    for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
        if (strcmp(KNOWN[i][0], label) == 0)
            return KNOWN[i][1];
    return NULL;
}

/* KNOWN's rows [first, first + 10) are one dataset's classes. */
static int all_in(const char *const *labels, int n, size_t first) {
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (size_t j = first; j < first + 10 && !found; j++)
            found = strcmp(KNOWN[j][0], labels[i]) == 0;
        if (!found)
            return 0;
    }
    return n > 0;
}

const char *class_set_name(const char *const *labels, int n) {
    return all_in(labels, n, 0) ? "imagenette" : all_in(labels, n, 10) ? "imagewoof" : NULL;
}
