/* noisette bench train: the speed and memory of training steps and of
 * evaluation for one model, batch and image size, on random inputs.
 *
 * A training step is what noisette train does per batch: forward in
 * training mode, label-smoothing cross entropy, backward, a ranger step.
 * The first step is a warm-up (the oneDNN backend makes its primitives
 * and picks its layouts there); the next --steps are timed one by one and
 * the median is reported, so that a moment of load elsewhere on the
 * machine moves the result little. Evaluation is the forward pass in
 * inference mode, timed the same way.
 *
 * Under mpirun (train/dist.h) --bs is the global batch: each rank steps
 * on its share with the gradients averaged as noisette train does, every
 * step starting together, and rank 0 reports; the all-reduce of the whole
 * gradient is also timed alone. */
#include "cli/cli.h"

#include "nn/backend.h"
#include "nn/model.h"
#include "train/dist.h"
#include "train/loss.h"
#include "train/optim.h"
#include "util/err.h"
#include "util/log.h"
#include "util/rng.h"

#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define BENCH_DEFAULT_ARCH  "xresnet50"
#define BENCH_DEFAULT_SIZE  128
#define BENCH_DEFAULT_BS    64
#define BENCH_DEFAULT_STEPS 5
#define BENCH_STEPS_MAX     1000

static void print_help(FILE *out) {
    fprintf(out,
            "Usage: noisette bench train [OPTIONS]\n"
            "\n"
            "Measure training steps (forward, label-smoothing cross entropy, backward,\n"
            "ranger) and evaluation (forward in inference mode) of one model on random\n"
            "inputs: images/s and achieved GFLOP/s (median of the timed steps, after a\n"
            "warm-up step), peak memory (RSS), heap growth after the first step, and\n"
            "where a training step's time goes, by layer kind.\n"
            "\n"
            "Options:\n"
            "      --arch ARCH        architecture (default %s; see noisette model)\n"
            "      --size S           image size (default %d)\n"
            "      --bs N             batch size (default %d)\n"
            "      --backend NAME     dnnl (the default in builds with oneDNN), blas\n"
            "                         (the default otherwise) or reference\n"
            "      --act mish|relu    --pool avgpool|maxpool   --sa   --sym\n"
            "      --c-in N           input channels (default 3)\n"
            "      --width-div N      divide every width by N\n"
            "      --steps N          timed steps of each kind (default %d)\n"
            "      --json             also print the results as one JSON line\n"
            "  -q, --quiet            print only the results\n"
            "  -h, --help             show this help\n"
            "\n"
            "GFLOP/s counts 2 x the multiply-adds of convolutions, linear layers and\n"
            "attention: a training step as 3 x the forward pass.\n"
            "\n"
            "mpirun -n R noisette bench train ... runs the step on R ranks, --bs being\n"
            "the global batch, and also times the all-reduce of the gradients alone\n"
            "(docs/distributed.md).\n"
            "\n"
            "Exit codes: 0 done, 1 failed, 2 bad usage.\n",
            BENCH_DEFAULT_ARCH, BENCH_DEFAULT_SIZE, BENCH_DEFAULT_BS, BENCH_DEFAULT_STEPS);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Bytes the allocator has handed out and not taken back, all arenas. */
static long long heap_in_use(void) {
    struct mallinfo2 mi = mallinfo2();
    return (long long)(mi.uordblks + mi.hblkhd);
}

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;   /* KiB on Linux */
}

typedef struct {
    Model      m;
    Optimizer *opt;
    float     *x, *dz;
    int       *y;
    int        n;
    double     loss_opt_s;  /* the last step's loss and optimizer time */
    GradSync  *gs;          /* several ranks: the gradient averaging */
    double     wait_s;      /* the last step's wait for it after backward */
} Bench;


/* One training step; returns its wall time. */
static double train_step(Bench *b) {
    dist_barrier();     /* several ranks start each timed piece together */
    double t0 = now_s();
    model_forward(&b->m, b->x, b->n, 1);
    double t1 = now_s();
    LossBatch lb = {b->n, b->m.cfg.n_out, model_logits(&b->m)->data, b->y, NULL};
    double mean;
    loss_label_smoothing(&lb, LOSS_LS_EPS_DEFAULT, NULL, b->dz, &mean);
    model_zero_grad(&b->m);
    double t2 = now_s();
    model_backward(&b->m, b->dz);
    double t3 = now_s();
    if (b->gs)
        gradsync_finish(b->gs);
    double t4 = now_s();
    optimizer_step(b->opt);
    double t5 = now_s();
    b->loss_opt_s = (t2 - t1) + (t5 - t4);
    b->wait_s = t4 - t3;
    return t5 - t0;
}

/* The all-reduce of every gradient alone, no backward pass to hide it. */
static double allreduce_alone(Bench *b) {
    dist_barrier();
    double t0 = now_s();
    gradsync_finish(b->gs);
    return now_s() - t0;
}

static double eval_step(Bench *b) {
    dist_barrier();
    double t0 = now_s();
    model_forward(&b->m, b->x, b->n, 0);
    return now_s() - t0;
}

static int bench_setup(Bench *b, const ModelConfig *cfg, int bs, int size, const Backend *be) {
    memset(b, 0, sizeof *b);
    b->n = bs;
    Rng rng;
    rng_seed(&rng, 1);
    int rc = model_build(&b->m, cfg, bs, size, be, &rng);
    if (rc < 0)
        return rc;

    /* The reference script's ranger at lr 0: every step does all of the
     * optimizer's work, but the weights stay at their initial values. At
     * lr 1e-4, random images and labels took xse_resnext50 within a few
     * steps to weights where a step ran 3-4 times as long as the first, in
     * PyTorch too, while steps of real training do not slow down (the
     * rehearsal in docs/training.md): the steps timed would not be those
     * of training. */
    OptConfig oc;
    OptHyper h;
    if ((rc = optim_parse("ranger", &oc, &h)) < 0)
        return rc;
    h.lr = 0;
    b->opt = optimizer_new_model(&oc, &b->m.params, &h);
    size_t nx = (size_t)bs * cfg->c_in * size * size;
    b->x = malloc(nx * sizeof *b->x);
    b->dz = malloc((size_t)bs * cfg->n_out * sizeof *b->dz);
    b->y = malloc((size_t)bs * sizeof *b->y);
    if (!b->opt || !b->x || !b->dz || !b->y)
        return err_set(ERR_NOMEM, "out of memory for the benchmark's batch");
    for (size_t i = 0; i < nx; i++)
        b->x[i] = (float)rng_normal(&rng);
    for (int i = 0; i < bs; i++)
        b->y[i] = (int)rng_below(&rng, (uint64_t)cfg->n_out);
    return ERR_OK;
}

static void bench_free(Bench *b) {
    gradsync_free(b->gs);
    optimizer_free(b->opt);
    model_free(&b->m);
    free(b->x), free(b->dz), free(b->y);
}

/* The profiled step's time by node kind, largest first, then the loss and
 * optimizer; as a table, or JSON members when json is set. */
static void print_profile(const Bench *b, const double *prof, double step, FILE *out, int json) {
    int order[NODE_KIND_COUNT], n = 0;
    for (int k = 0; k < NODE_KIND_COUNT; k++)
        if (prof[2 * k] + prof[2 * k + 1] > 0)
            order[n++] = k;
    for (int i = 1; i < n; i++)     /* insertion sort by total time */
        for (int j = i; j > 0; j--) {
            int a = order[j - 1], c = order[j];
            if (prof[2 * a] + prof[2 * a + 1] >= prof[2 * c] + prof[2 * c + 1])
                break;
            order[j - 1] = c, order[j] = a;
        }
    if (!json)
        fprintf(out, "  time by layer kind, one training step of %.3f s:\n"
                "    %-16s %9s %9s %7s\n", step, "kind", "forward", "backward", "share");
    for (int i = 0; i < n; i++) {
        int k = order[i];
        double f = prof[2 * k], bw = prof[2 * k + 1];
        if (json)
            fprintf(out, "%s\"%s\":[%.6f,%.6f]", i ? "," : "", model_node_kind_name(k), f, bw);
        else
            fprintf(out, "    %-16s %8.3fs %8.3fs %6.1f%%\n", model_node_kind_name(k), f, bw,
                    100.0 * (f + bw) / step);
    }
    if (json)
        fprintf(out, "%s\"loss+optimizer\":[%.6f,0]", n ? "," : "", b->loss_opt_s);
    else
        fprintf(out, "    %-16s %8.3fs %9s %6.1f%%\n", "loss, optimizer", b->loss_opt_s, "",
                100.0 * b->loss_opt_s / step);
}

static int run(const ModelConfig *cfg, int bs, int size, const Backend *be, int steps, int json) {
    Bench b;
    int ranks = dist_size();
    int rc = bench_setup(&b, cfg, bs / ranks, size, be);
    if (rc == ERR_OK && ranks > 1 && !(b.gs = gradsync_new(&b.m, 4u << 20)))
        rc = ERR_NOMEM;
    if (rc < 0) {
        bench_free(&b);
        return cli_report(rc);
    }
    char desc[256];
    model_describe(&b.m, desc, sizeof desc);
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    const char *wait = getenv("OMP_WAIT_POLICY");
    log_info("bench train: %s, %d px, batch %d, backend %s, %d threads, OMP_WAIT_POLICY %s",
             desc, size, bs, be->name, threads, wait ? wait : "unset");
    char ranks_text[64] = "";
    if (ranks > 1)
        snprintf(ranks_text, sizeof ranks_text, " x %d ranks (batch %d each)", ranks,
                 bs / ranks);

    /* Training: a warm-up step, then the timed ones. */
    double *t = malloc((size_t)steps * sizeof *t);
    if (!t) {
        bench_free(&b);
        return cli_report(err_set(ERR_NOMEM, "out of memory"));
    }
    log_info("warm-up step");
    double first = train_step(&b);
    long long heap0 = heap_in_use();
    for (int i = 0; i < steps; i++) {
        t[i] = train_step(&b);
        log_info("training step %d/%d: %.3f s", i + 1, steps, t[i]);
    }
    long long heap_growth = heap_in_use() - heap0;
    double train_s = median(t, steps), rss = peak_rss_mib(), wait_s = b.wait_s;

    /* Several ranks: the gradients' all-reduce alone. */
    double reduce_s = 0;
    for (int i = 0; ranks > 1 && i < steps; i++)
        t[i] = allreduce_alone(&b);
    if (ranks > 1)
        reduce_s = median(t, steps);

    /* One more step, profiled by layer kind. */
    double prof[2 * NODE_KIND_COUNT] = {0};
    b.m.profile = prof;
    double prof_step = train_step(&b);
    b.m.profile = NULL;

    /* Evaluation. */
    eval_step(&b);
    for (int i = 0; i < steps; i++)
        t[i] = eval_step(&b);
    double eval_s = median(t, steps);
    free(t);

    double gflop = model_flops(&b.m) * 1e-9;
    printf("bench train %s, %d px, batch %d, backend %s, %d threads%s\n", desc, size, bs,
           be->name, threads, ranks_text);
    printf("  training step  %7.3f s  %8.1f images/s  %7.1f GFLOP/s  (first step %.3f s)\n",
           train_s, bs / train_s, 3 * gflop * bs / train_s, first);
    printf("  evaluation     %7.3f s  %8.1f images/s  %7.1f GFLOP/s\n", eval_s, bs / eval_s,
           gflop * bs / eval_s);
    printf("  peak RSS after training steps %.0f MiB; heap growth after the first step: "
           "%lld bytes\n", rss, heap_growth);
    size_t n_grad = 0;
    for (int i = 0; i < b.m.params.n; i++)
        n_grad += b.m.params.items[i]->numel;
    double grad_mib = (double)n_grad * sizeof(float) / (1 << 20);
    if (ranks > 1)
        printf("  gradients %.1f MiB: all-reduce alone %.3f s; after the backward pass "
               "a step waited %.3f s for it\n", grad_mib, reduce_s, wait_s);
    print_profile(&b, prof, prof_step, stdout, 0);
    if (json) {
        printf("{\"arch\":\"%s\",\"model\":\"%s\",\"size\":%d,\"bs\":%d,\"backend\":\"%s\","
               "\"threads\":%d,\"train_step_s\":%.6f,\"train_images_per_s\":%.3f,"
               "\"eval_step_s\":%.6f,\"eval_images_per_s\":%.3f,\"gflop_per_image\":%.6f,"
               "\"peak_rss_mib\":%.1f,\"heap_growth_bytes\":%lld,\"ranks\":%d,"
               "\"gradient_mib\":%.3f,\"allreduce_s\":%.6f,\"allreduce_wait_s\":%.6f,"
               "\"profile\":{",
               cfg->arch, desc, size, bs, be->name, threads, train_s, bs / train_s, eval_s,
               bs / eval_s, gflop, rss, heap_growth, ranks, grad_mib, reduce_s, wait_s);
        print_profile(&b, prof, prof_step, stdout, 1);
        printf("}}\n");
    }
    bench_free(&b);
    return EXIT_CODE_OK;
}

int cmd_bench_train(int argc, char **argv) {
    enum { OPT_ARCH = 256, OPT_SIZE, OPT_BS, OPT_BACKEND, OPT_ACT, OPT_POOL, OPT_SA, OPT_SYM,
           OPT_CIN, OPT_WDIV, OPT_STEPS, OPT_JSON };
    static const struct option longopts[] = {
        {"arch", required_argument, NULL, OPT_ARCH},
        {"size", required_argument, NULL, OPT_SIZE},
        {"bs", required_argument, NULL, OPT_BS},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"act", required_argument, NULL, OPT_ACT},
        {"pool", required_argument, NULL, OPT_POOL},
        {"sa", no_argument, NULL, OPT_SA},
        {"sym", no_argument, NULL, OPT_SYM},
        {"c-in", required_argument, NULL, OPT_CIN},
        {"width-div", required_argument, NULL, OPT_WDIV},
        {"steps", required_argument, NULL, OPT_STEPS},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ModelConfig cfg;
    model_config_default(&cfg, BENCH_DEFAULT_ARCH);
    int size = BENCH_DEFAULT_SIZE, bs = BENCH_DEFAULT_BS, steps = BENCH_DEFAULT_STEPS;
    int json = 0, quiet = 0, opt, bad = 0;
    const char *backend = backend_default()->name;

    optind = 1;
    argv[0] = "noisette bench train";
    while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1 && !bad) {
        switch (opt) {
        case OPT_ARCH: snprintf(cfg.arch, sizeof cfg.arch, "%s", optarg); break;
        case OPT_SIZE: bad = cli_parse_int("bench", "--size", optarg, 1, &size); break;
        case OPT_BS: bad = cli_parse_int("bench", "--bs", optarg, 1, &bs); break;
        case OPT_BACKEND: backend = optarg; break;
        case OPT_ACT: bad = cli_parse_act("bench", optarg, &cfg.act); break;
        case OPT_POOL: bad = cli_parse_pool("bench", optarg, &cfg.pool); break;
        case OPT_SA: cfg.sa = 1; break;
        case OPT_SYM: cfg.sym = 1; break;
        case OPT_CIN: bad = cli_parse_int("bench", "--c-in", optarg, 1, &cfg.c_in); break;
        case OPT_WDIV: bad = cli_parse_int("bench", "--width-div", optarg, 1, &cfg.width_div);
            break;
        case OPT_STEPS: bad = cli_parse_int("bench", "--steps", optarg, 1, &steps); break;
        case OPT_JSON: json = 1; break;
        case 'q': quiet = 1; break;
        case 'h': print_help(stdout); return EXIT_CODE_OK;
        default: return cli_try_help("bench");
        }
    }
    if (bad)
        return bad;
    if (optind != argc)
        return cli_usage_error("bench", "bench train takes no arguments, only options");
    if (steps > BENCH_STEPS_MAX)
        return cli_usage_error("bench", "--steps: at most %d", BENCH_STEPS_MAX);
    if (bs % dist_size() != 0)
        return cli_usage_error("bench", "--bs %d is the global batch; it must divide among the "
                               "%d ranks", bs, dist_size());
    cli_set_verbosity(0, quiet);

    const Backend *be = backend_by_name(backend);
    if (!be)
        return cli_report(ERR_USAGE);
    return run(&cfg, bs, size, be, steps, json);
}
