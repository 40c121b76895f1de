/* Decoding JPEG (libjpeg-turbo) and PNG (libpng) files held in memory into
 * 8-bit RGB, byte for byte as Pillow 9.4's Image.open(f).convert("RGB"): the
 * same system libjpeg-turbo at its defaults (integer slow DCT, fancy
 * upsampling), Pillow's CMYK rule, and Pillow's reading of 16-bit and alpha
 * PNGs. Both libraries report errors by longjmp; each format has one
 * function that owns the library's state, holds the setjmp and frees it.
 * Left out: EXIF orientation and ICC profiles (Pillow applies neither). */
#include "data/image.h"

#include "util/err.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#define DECODE_SIDE_MAX   32768         /* px on either side */
#define DECODE_PIXELS_MAX (1L << 28)    /* w * h */
#define DECODE_ROWS_MAX   16            /* JPEG rows asked for per call */

static const uint8_t JPEG_MAGIC[3] = {0xFF, 0xD8, 0xFF};
static const uint8_t PNG_MAGIC[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

/* ------------------------------------------------------------------ */
/* Shared checks                                                        */
/* ------------------------------------------------------------------ */

/* The format from the magic bytes, or ERR_PARSE naming the first bytes. */
static int sniff_format(const uint8_t *data, size_t len, const char *name,
                        ImageFormat *format) {
    if (len >= sizeof JPEG_MAGIC && memcmp(data, JPEG_MAGIC, sizeof JPEG_MAGIC) == 0) {
        *format = IMAGE_JPEG;
        return ERR_OK;
    }
    if (len >= sizeof PNG_MAGIC && memcmp(data, PNG_MAGIC, sizeof PNG_MAGIC) == 0) {
        *format = IMAGE_PNG;
        return ERR_OK;
    }
    if (len == 0)
        return err_set(ERR_PARSE, "%s: not a JPEG or PNG file (it is empty)", name);

    /* Show the first bytes in hex: enough to recognise HTML, GIF, WebP... */
    char hex[8 * 3 + 1] = "";
    size_t shown = len < 8 ? len : 8;
    for (size_t i = 0; i < shown; i++)
        snprintf(hex + 3 * i, sizeof hex - 3 * i, "%02x%s", data[i], i + 1 < shown ? " " : "");
    return err_set(ERR_PARSE, "%s: not a JPEG or PNG file (starts with %s%s)", name, hex,
                   len > shown ? " ..." : "");
}

/* ERR_PARSE unless 0 < w, h <= DECODE_SIDE_MAX and w * h <= DECODE_PIXELS_MAX. */
static int check_size(const char *name, long w, long h) {
    if (w <= 0 || h <= 0)
        return err_set(ERR_PARSE, "%s: image has no pixels (%ldx%ld)", name, w, h);
    if (w > DECODE_SIDE_MAX || h > DECODE_SIDE_MAX || w * h > DECODE_PIXELS_MAX)
        return err_set(ERR_PARSE, "%s: image too large (%ldx%ld; at most %d px a side "
                       "and %ld pixels)", name, w, h, DECODE_SIDE_MAX, DECODE_PIXELS_MAX);
    return ERR_OK;
}

/* ------------------------------------------------------------------ */
/* JPEG                                                                 */
/* ------------------------------------------------------------------ */

/* What the libjpeg callbacks need; err must come first, since libjpeg
 * hands the callbacks cinfo->err and they cast it back to the whole. */
typedef struct {
    struct jpeg_error_mgr         err;
    struct jpeg_decompress_struct cinfo;
    jmp_buf                       jump;
    int                           rows_done;    /* every output row was read */
    int                           truncated;    /* the jump is for missing data */
    long                          warnings;     /* corrupt-data warnings seen */
    char                          msg[JMSG_LENGTH_MAX];
} JpegCtx;

/* libjpeg's error_exit: keep the message and leave through the setjmp. */
static void jpg_on_error(j_common_ptr cinfo) {
    JpegCtx *ctx = (JpegCtx *)cinfo->err;
    cinfo->err->format_message(cinfo, ctx->msg);
    longjmp(ctx->jump, 1);
}

/* libjpeg's emit_message: traces (level >= 0) are dropped and warnings
 * counted, never printed. Pillow decodes through every warning but one:
 * its source suspends when the data runs out and it then reports the file
 * truncated, where jpeg_mem_src warns and pads with a fake EOI that would
 * grey-fill the rest. So running out of data before the last row is an
 * error here too; after it (a missing EOI) Pillow is content, and so are we. */
static void jpg_on_message(j_common_ptr cinfo, int level) {
    JpegCtx *ctx = (JpegCtx *)cinfo->err;
    if (level >= 0)
        return;
    ctx->warnings++;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF && !ctx->rows_done) {
        ctx->truncated = 1;
        cinfo->err->format_message(cinfo, ctx->msg);
        longjmp(ctx->jump, 1);
    }
}

static void jpg_on_output(j_common_ptr cinfo) {
    (void)cinfo;
}

/* round(a * b / 255) for a, b in 0..255, exactly. */
static inline int mul_div255(int a, int b) {
    int t = a * b + 128;
    return (t + (t >> 8)) >> 8;
}

/* One row of a 4-component JPEG to RGB. Pillow 9.4 reads every such file
 * as Adobe-inverted CMYK (rawmode "CMYK;I", whatever the markers say;
 * libjpeg has already turned YCCK into CMYK) and converts with cmyk2rgb:
 *   R = (255 - K) - round((255 - K) * C / 255), likewise G (M), B (Y).
 * The stored bytes are c = 255 - C and k = 255 - K, so R = k - round(k * (255 - c) / 255). */
static void cmyk_row_to_rgb(const uint8_t *cmyk, uint8_t *rgb, int w) {
    for (int x = 0; x < w; x++, cmyk += 4, rgb += 3) {
        int k = cmyk[3];
        rgb[0] = (uint8_t)(k - mul_div255(255 - cmyk[0], k));
        rgb[1] = (uint8_t)(k - mul_div255(255 - cmyk[1], k));
        rgb[2] = (uint8_t)(k - mul_div255(255 - cmyk[2], k));
    }
}

/* Reads every output row: RGB straight into out, CMYK through one row of
 * libjpeg's own (per image) memory. May longjmp. */
static void jpg_read_rows(JpegCtx *ctx, Image *out) {
    j_decompress_ptr cinfo = &ctx->cinfo;
    size_t stride = (size_t)out->w * 3;

    /* RGB: libjpeg writes the rows in place, several per call */
    if (cinfo->out_color_space == JCS_RGB) {
        JSAMPROW rows[DECODE_ROWS_MAX];
        while (cinfo->output_scanline < cinfo->output_height) {
            JDIMENSION y = cinfo->output_scanline;
            JDIMENSION n = cinfo->output_height - y;
            if (n > DECODE_ROWS_MAX)
                n = DECODE_ROWS_MAX;
            for (JDIMENSION i = 0; i < n; i++)
                rows[i] = out->px + (y + i) * stride;
            if (jpeg_read_scanlines(cinfo, rows, n) == 0)
                ERREXIT(cinfo, JERR_INPUT_EOF);     /* no progress: never with a memory source */
        }
        return;
    }

    /* CMYK: decode a row, then convert it into out */
    JSAMPARRAY cmyk = cinfo->mem->alloc_sarray((j_common_ptr)cinfo, JPOOL_IMAGE,
                                               cinfo->output_width * 4, 1);
    while (cinfo->output_scanline < cinfo->output_height) {
        JDIMENSION y = cinfo->output_scanline;
        if (jpeg_read_scanlines(cinfo, cmyk, 1) != 1)
            ERREXIT(cinfo, JERR_INPUT_EOF);
        cmyk_row_to_rgb(cmyk[0], out->px + y * stride, out->w);
    }
}

/* The body of jpg_run, which catches its longjmps: header, checks, then
 * (when out is set) the pixels. */
static int jpg_read(JpegCtx *ctx, const uint8_t *data, size_t len, const char *name,
                     int scale_eighths, Image *out, ImageInfo *info) {
    j_decompress_ptr cinfo = &ctx->cinfo;

    /* Header: size and colour layout, refused as Pillow's plugin refuses them */
    jpeg_mem_src(cinfo, data, (unsigned long)len);
    jpeg_read_header(cinfo, TRUE);
    int rc = check_size(name, (long)cinfo->image_width, (long)cinfo->image_height);
    if (rc)
        return rc;
    J_COLOR_SPACE want;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
        want = JCS_RGB;     /* grey is replicated by libjpeg, as L -> RGB does */
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        want = JCS_CMYK;
        break;
    default:
        return err_set(ERR_PARSE, "%s: unsupported JPEG: %d colour components (expected 1, "
                       "3 or 4)", name, cinfo->num_components);
    }
    if (info) {
        info->format = IMAGE_JPEG;
        info->w = (int)cinfo->image_width;
        info->h = (int)cinfo->image_height;
    }
    if (!out)
        return ERR_OK;

    /* Decoder settings: the library's defaults but for colour and scale */
    cinfo->out_color_space = want;
    cinfo->scale_num = (unsigned)scale_eighths;
    cinfo->scale_denom = 8;
    jpeg_start_decompress(cinfo);
    rc = image_reserve(out, (int)cinfo->output_width, (int)cinfo->output_height, 3);
    if (rc)
        return rc;

    /* Pixels, then the rest of the file up to EOI */
    jpg_read_rows(ctx, out);
    ctx->rows_done = 1;
    jpeg_finish_decompress(cinfo);
    return ERR_OK;
}

/* Probes (out NULL) or decodes a JPEG. ctx lives in the caller's frame so
 * that nothing the longjmp skips over is a local of this function. */
static int jpg_run(JpegCtx *ctx, const uint8_t *data, size_t len, const char *name,
                    int scale_eighths, Image *out, ImageInfo *info) {
    j_decompress_ptr cinfo = &ctx->cinfo;

    /* Route libjpeg's errors and messages to ctx (a zeroed cinfo also makes
     * jpeg_destroy safe if jpeg_create fails) */
    memset(ctx, 0, sizeof *ctx);
    cinfo->err = jpeg_std_error(&ctx->err);
    ctx->err.error_exit = jpg_on_error;
    ctx->err.emit_message = jpg_on_message;
    ctx->err.output_message = jpg_on_output;
    if (setjmp(ctx->jump)) {
        jpeg_destroy_decompress(cinfo);
        if (ctx->truncated)
            return err_set(ERR_PARSE, "%s: truncated JPEG: %s", name, ctx->msg);
        return err_set(ERR_PARSE, "%s: corrupt JPEG: %s", name, ctx->msg);
    }

    /* Decode, then free libjpeg's memory whatever the outcome */
    jpeg_create_decompress(cinfo);
    int rc = jpg_read(ctx, data, len, name, scale_eighths, out, info);
    jpeg_destroy_decompress(cinfo);
    return rc;
}

/* ------------------------------------------------------------------ */
/* PNG                                                                  */
/* ------------------------------------------------------------------ */

/* The memory source and error record that libpng's callbacks share. */
typedef struct {
    const uint8_t *data;
    size_t         len, pos;
    int            truncated;
    char           msg[256];
} PngCtx;

/* libpng's read callback over the buffer; running out is an error. */
static void pngd_read_mem(png_structp png, png_bytep dst, size_t n) {
    PngCtx *ctx = png_get_io_ptr(png);
    if (n > ctx->len - ctx->pos) {
        ctx->truncated = 1;
        png_error(png, "premature end of data");
    }
    memcpy(dst, ctx->data + ctx->pos, n);
    ctx->pos += n;
}

static void pngd_on_error(png_structp png, png_const_charp msg) {
    PngCtx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* Warnings (a bad ancillary chunk, an sRGB profile libpng dislikes) are
 * about data Pillow's conversion to RGB ignores too. */
static void pngd_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* How libpng hands over each pixel, before our own pass to RGB. */
typedef enum {
    ROW_LAYOUT_RGB    = 3,    /* final RGB */
    ROW_LAYOUT_GREY16 = 2,    /* 16-bit grey, big-endian */
    ROW_LAYOUT_INDEX  = 1     /* palette index, one byte */
} RowLayout;

/* Expands rows that libpng wrote packed at the start of each 3*w-byte row
 * of out into RGB, in place: each row runs right to left, since pixel x
 * reads bytes at or below 2x + 1 and writes 3x..3x + 2.
 *   GREY16: Pillow opens such a file in mode "I" and convert("RGB") clips
 *           the value to 255 (no scaling): the low byte if the high is 0.
 *   INDEX:  Pillow's palette is PLTE, then the grey ramp (i, i, i) for
 *           indices past its end (libpng would give black). */
static void pngd_rows_to_rgb(Image *out, RowLayout layout, const uint8_t *palette) {
    size_t stride = (size_t)out->w * 3;
    for (int y = 0; y < out->h; y++) {
        uint8_t *row = out->px + (size_t)y * stride;
        for (int x = out->w - 1; x >= 0; x--) {
            uint8_t *rgb = row + 3 * x;
            if (layout == ROW_LAYOUT_GREY16) {
                rgb[0] = rgb[1] = rgb[2] = row[2 * x] ? 255 : row[2 * x + 1];
            } else {
                const uint8_t *entry = palette + 3 * row[x];
                rgb[0] = entry[0];
                rgb[1] = entry[1];
                rgb[2] = entry[2];
            }
        }
    }
}

/* Pillow's 256-entry palette for a palette PNG (see pngd_rows_to_rgb). */
static void pngd_palette(png_structp png, png_infop pinfo, uint8_t palette[256 * 3]) {
    for (int i = 0; i < 256; i++)
        palette[3 * i] = palette[3 * i + 1] = palette[3 * i + 2] = (uint8_t)i;
    png_colorp plte = NULL;
    int n = 0;
    if (png_get_PLTE(png, pinfo, &plte, &n) != PNG_INFO_PLTE)
        return;
    for (int i = 0; i < n && i < 256; i++) {
        palette[3 * i] = plte[i].red;
        palette[3 * i + 1] = plte[i].green;
        palette[3 * i + 2] = plte[i].blue;
    }
}

/* Asks libpng for rows as Pillow's convert("RGB") makes them: low-bit grey
 * scaled to 8 bits, grey replicated, alpha dropped without compositing,
 * 16-bit samples cut to their high byte (Pillow's "RGB;16B", "RGBA;16B",
 * "LA;16B"), tRNS ignored, no gamma. Palettes come as indices and 16-bit
 * grey as is, for pngd_rows_to_rgb. */
static RowLayout pngd_set_transforms(png_structp png, png_infop pinfo) {
    int depth = png_get_bit_depth(png, pinfo);
    int type = png_get_color_type(png, pinfo);

    if (type == PNG_COLOR_TYPE_PALETTE) {
        png_set_packing(png);
        return ROW_LAYOUT_INDEX;
    }
    if (type == PNG_COLOR_TYPE_GRAY && depth == 16)
        return ROW_LAYOUT_GREY16;
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (type & PNG_COLOR_MASK_ALPHA)
        png_set_strip_alpha(png);
    if (depth == 16)
        png_set_strip_16(png);
    if (!(type & PNG_COLOR_MASK_COLOR))
        png_set_gray_to_rgb(png);
    return ROW_LAYOUT_RGB;
}

/* The body of pngd_run, which catches its longjmps. */
static int pngd_read(PngCtx *ctx, png_structp png, png_infop pinfo, const char *name,
                    Image *out, ImageInfo *info) {

    /* Header. Pillow checks the CRC of every chunk before the image data,
     * ancillary ones included; libpng would only warn for those */
    png_set_read_fn(png, ctx, pngd_read_mem);
    png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    png_read_info(png, pinfo);
    long w = (long)png_get_image_width(png, pinfo);
    long h = (long)png_get_image_height(png, pinfo);
    int rc = check_size(name, w, h);
    if (rc)
        return rc;
    if (info) {
        info->format = IMAGE_PNG;
        info->w = (int)w;
        info->h = (int)h;
    }
    if (!out)
        return ERR_OK;

    /* Transforms, and a check that libpng agrees on the row size */
    RowLayout layout = pngd_set_transforms(png, pinfo);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, pinfo);
    if (png_get_rowbytes(png, pinfo) != (size_t)w * (size_t)layout)
        return err_set(ERR_PARSE, "%s: unsupported PNG layout (%zu bytes a row for %ld px)",
                       name, (size_t)png_get_rowbytes(png, pinfo), w);
    rc = image_reserve(out, (int)w, (int)h, 3);
    if (rc)
        return rc;

    /* Rows, pass by pass for Adam7 (libpng fills in each pass's pixels).
     * What follows the image data is not read: Pillow ignores it too */
    size_t stride = (size_t)w * 3;
    for (int pass = 0; pass < passes; pass++)
        for (long y = 0; y < h; y++)
            png_read_row(png, out->px + (size_t)y * stride, NULL);
    if (layout != ROW_LAYOUT_RGB) {
        uint8_t palette[256 * 3] = {0};
        if (layout == ROW_LAYOUT_INDEX)
            pngd_palette(png, pinfo, palette);
        pngd_rows_to_rgb(out, layout, palette);
    }
    return ERR_OK;
}

/* Probes (out NULL) or decodes a PNG; ctx lives in the caller's frame. */
static int pngd_run(PngCtx *ctx, const uint8_t *data, size_t len, const char *name,
                   Image *out, ImageInfo *info) {
    memset(ctx, 0, sizeof *ctx);
    ctx->data = data;
    ctx->len = len;

    /* libpng's state; its errors land below the setjmp */
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, pngd_on_error,
                                             pngd_on_warning);
    if (!png)
        return err_set(ERR_NOMEM, "%s: out of memory for the PNG decoder", name);
    png_infop pinfo = png_create_info_struct(png);
    if (!pinfo) {
        png_destroy_read_struct(&png, NULL, NULL);
        return err_set(ERR_NOMEM, "%s: out of memory for the PNG decoder", name);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &pinfo, NULL);
        return err_set(ERR_PARSE, "%s: %s PNG: %s", name,
                       ctx->truncated ? "truncated" : "corrupt", ctx->msg);
    }

    /* Decode, then free libpng's memory whatever the outcome */
    int rc = pngd_read(ctx, png, pinfo, name, out, info);
    png_destroy_read_struct(&png, &pinfo, NULL);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Interface                                                            */
/* ------------------------------------------------------------------ */

int image_probe(const uint8_t *data, size_t len, const char *name, ImageInfo *info) {
    ImageFormat format;
    if (!name)
        name = "(image)";
    int rc = sniff_format(data, len, name, &format);
    if (rc)
        return rc;

    if (format == IMAGE_JPEG) {
        JpegCtx ctx;
        return jpg_run(&ctx, data, len, name, 8, NULL, info);
    }
    PngCtx ctx;
    return pngd_run(&ctx, data, len, name, NULL, info);
}

int image_decode(const uint8_t *data, size_t len, const char *name, int scale_eighths,
                 Image *out) {
    ImageFormat format;
    if (!name)
        name = "(image)";
    if (scale_eighths < 1 || scale_eighths > 8)
        return err_set(ERR_INVALID, "%s: decode scale %d/8 (expected 1/8 to 8/8)", name,
                       scale_eighths);
    int rc = sniff_format(data, len, name, &format);
    if (rc)
        return rc;

    if (format == IMAGE_JPEG) {
        JpegCtx ctx;
        return jpg_run(&ctx, data, len, name, scale_eighths, out, NULL);
    }
    PngCtx ctx;
    return pngd_run(&ctx, data, len, name, out, NULL);
}
