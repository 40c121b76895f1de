/* Writes a YCCK JPEG, which Pillow cannot write, for the decode fixtures:
 * tools/make_decode_fixtures.py compiles and runs it.
 *
 *   make_ycck_jpeg W H IN.cmyk OUT.jpg
 *
 * IN.cmyk holds W*H*4 bytes of CMYK in Adobe's inverted convention (as
 * Pillow stores CMYK in JPEGs); libjpeg turns them into YCCK (Adobe
 * transform 2) at quality 90 and writes the Adobe marker that says so. */
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: make_ycck_jpeg W H IN.cmyk OUT.jpg\n");
        return 2;
    }
    int w = atoi(argv[1]), h = atoi(argv[2]);
    size_t n = (size_t)w * (size_t)h * 4;

    /* The pixels */
    unsigned char *px = malloc(n);
    FILE *in = fopen(argv[3], "rb");
    if (!px || !in || fread(px, 1, n, in) != n) {
        fprintf(stderr, "make_ycck_jpeg: cannot read %zu bytes from %s\n", n, argv[3]);
        return 1;
    }
    fclose(in);
    FILE *out = fopen(argv[4], "wb");
    if (!out) {
        fprintf(stderr, "make_ycck_jpeg: cannot write %s\n", argv[4]);
        return 1;
    }

    /* The compressor: CMYK in, YCCK in the file (libjpeg exits on error) */
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, out);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = 4;
    cinfo.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&cinfo);
    jpeg_set_colorspace(&cinfo, JCS_YCCK);
    jpeg_set_quality(&cinfo, 90, TRUE);

    /* Rows, one at a time */
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = px + (size_t)cinfo.next_scanline * (size_t)w * 4;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    free(px);
    return fclose(out) == 0 ? 0 : 1;
}
