/* mlp_train: the demo workload that `make demo` measures. It trains a small
 * 64-H-10 multilayer perceptron (ReLU hidden layer, softmax output,
 * cross-entropy loss, plain mini-batch SGD) on the UCI handwritten digits in
 * data/digits/digits.csv, single-threaded, with its own seeded PRNG so that a
 * given binary always prints the same numbers. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef WATTPROF_DEMO_DATA
#define WATTPROF_DEMO_DATA "data/digits/digits.csv"
#endif

#define MLP_INPUTS 64  /* 8x8 pixels */
#define MLP_CLASSES 10 /* digits 0..9 */
#define MLP_PIXEL_MAX 16
#define MLP_ERRMSG_SIZE 512

/* Defaults: about 15 s of work with -O2 on one core of a 2-core VM. */
#define MLP_DEFAULT_EPOCHS 700
#define MLP_DEFAULT_HIDDEN 256
#define MLP_DEFAULT_BATCH 16
#define MLP_DEFAULT_LR 0.1
#define MLP_DEFAULT_SEED 1

struct options {
    const char *data_path; /* borrowed from argv or the build-time default */
    unsigned epochs;
    unsigned hidden;
    unsigned batch;
    double lr;
    uint64_t seed;
    int report_metric; /* --report-metric: send accuracy and units to wattprof */
};

/* One sample per row: x holds the pixels scaled to 0..1, y the label. */
struct dataset {
    float *x;         /* n * MLP_INPUTS, owned */
    unsigned char *y; /* n, owned */
    size_t n;
    size_t cap;
};

/* Weights are row-major: w1[j * MLP_INPUTS + i] links input i to hidden
 * unit j, w2[k * hidden + j] links hidden unit j to class k. Each g* array
 * accumulates the gradient of the matching parameter over one batch. All the
 * arrays are slices of one allocation, `block`, which the mlp owns. */
struct mlp {
    size_t hidden;
    float *block;
    float *w1, *b1, *w2, *b2;
    float *gw1, *gb1, *gw2, *gb2;
    float *h;             /* hidden activations of the last forward pass */
    float *dh;            /* gradient with respect to h, scratch for backward */
    float p[MLP_CLASSES]; /* softmax output of the last forward pass */
};

/* splitmix64 (Steele, Lea and Flood 2014): tiny, fast, good enough here. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z;

    *state += UINT64_C(0x9e3779b97f4a7c15);
    z = *state;
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform double in [0, 1), from the top 53 bits. */
static double rng_uniform(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) * 0x1.0p-53;
}

/* Fisher-Yates shuffle of idx[0..n). The modulo bias is negligible for
 * n far below 2^64. */
static void shuffle(size_t *idx, size_t n, uint64_t *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rng_next(rng) % i);
        size_t t = idx[i - 1];

        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

static void dataset_release(struct dataset *ds)
{
    free(ds->x);
    free(ds->y);
    memset(ds, 0, sizeof(*ds));
}

/* Makes room for one more sample. Returns 0 or -ENOMEM. */
static int dataset_grow(struct dataset *ds)
{
    size_t cap = ds->cap ? ds->cap * 2 : 256;
    float *x;
    unsigned char *y;

    if (ds->n < ds->cap) {
        return 0;
    }
    x = realloc(ds->x, cap * MLP_INPUTS * sizeof(*x));
    if (!x) {
        return -ENOMEM;
    }
    ds->x = x;
    y = realloc(ds->y, cap * sizeof(*y));
    if (!y) {
        return -ENOMEM;
    }
    ds->y = y;
    ds->cap = cap;
    return 0;
}

/* Parses one integer in [0, max] followed by `sep`. Advances *pos past the
 * separator. Returns 0 or -EINVAL. */
static int parse_field(const char **pos, long max, char sep, long *value)
{
    char *end;

    errno = 0;
    *value = strtol(*pos, &end, 10);
    if (end == *pos || errno != 0 || *value < 0 || *value > max) {
        return -EINVAL;
    }
    /* the last field may also end the file or a CRLF line */
    if (*end != sep && !(sep == '\n' && (*end == '\0' || *end == '\r'))) {
        return -EINVAL;
    }
    *pos = end + 1;
    return 0;
}

/* Parses "p0,...,p63,label" into sample ds->n. Returns 0 or -EINVAL. */
static int dataset_parse_line(struct dataset *ds, const char *line)
{
    float *x = ds->x + ds->n * MLP_INPUTS;
    long v;

    for (size_t i = 0; i < MLP_INPUTS; i++) {
        if (parse_field(&line, MLP_PIXEL_MAX, ',', &v) < 0) {
            return -EINVAL;
        }
        x[i] = (float)v / MLP_PIXEL_MAX;
    }
    if (parse_field(&line, MLP_CLASSES - 1, '\n', &v) < 0) {
        return -EINVAL;
    }
    ds->y[ds->n] = (unsigned char)v;
    ds->n++;
    return 0;
}

/* Reads every line of `f` into ds. Returns 0, -EINVAL, -ENOMEM or -EIO;
 * errmsg says which line and why. */
static int dataset_read(struct dataset *ds, FILE *f, const char *path, char *errmsg, size_t len)
{
    char *line = NULL;
    size_t line_size = 0;
    size_t lineno = 0;
    int r = 0;

    while (getline(&line, &line_size, f) >= 0) {
        lineno++;
        r = dataset_grow(ds);
        if (r < 0) {
            snprintf(errmsg, len, "out of memory");
            goto out;
        }
        r = dataset_parse_line(ds, line);
        if (r < 0) {
            snprintf(errmsg, len, "'%s' line %zu: expected %d integers 0..%d and a label 0..%d",
                     path, lineno, MLP_INPUTS, MLP_PIXEL_MAX, MLP_CLASSES - 1);
            goto out;
        }
    }
    if (ferror(f)) {
        r = -EIO;
        snprintf(errmsg, len, "cannot read '%s': %s", path, strerror(errno));
    }
out:
    free(line);
    return r;
}

/* Loads a digits CSV file. Returns 0 or a negative errno with errmsg set;
 * ds must be released by the caller either way. */
static int dataset_load(struct dataset *ds, const char *path, char *errmsg, size_t len)
{
    FILE *f = fopen(path, "re"); /* "e": O_CLOEXEC */
    int r;

    if (!f) {
        r = -errno;
        snprintf(errmsg, len, "cannot open '%s': %s", path, strerror(errno));
        return r;
    }
    r = dataset_read(ds, f, path, errmsg, len);
    fclose(f);
    if (r == 0 && ds->n < 5) {
        r = -EINVAL;
        snprintf(errmsg, len, "'%s': too few samples (%zu) to split", path, ds->n);
    }
    return r;
}

static void mlp_free(struct mlp *m)
{
    if (m) {
        free(m->block);
        free(m);
    }
}

/* Fills w[0..n) uniformly in [-limit, limit). */
static void init_uniform(float *w, size_t n, double limit, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++) {
        w[i] = (float)((2.0 * rng_uniform(rng) - 1.0) * limit);
    }
}

/* Allocates a network with He-uniform weights and zero biases. Returns NULL
 * on out-of-memory. */
static struct mlp *mlp_new(size_t hidden, uint64_t *rng)
{
    size_t n1 = hidden * MLP_INPUTS;
    size_t n2 = MLP_CLASSES * hidden;
    size_t params = n1 + hidden + n2 + MLP_CLASSES;
    struct mlp *m = calloc(1, sizeof(*m));

    if (!m) {
        return NULL;
    }
    m->block = calloc(2 * params + 2 * hidden, sizeof(float)); /* parameters, gradients, h, dh */
    if (!m->block) {
        free(m);
        return NULL;
    }
    m->hidden = hidden;
    m->w1 = m->block;
    m->b1 = m->w1 + n1;
    m->w2 = m->b1 + hidden;
    m->b2 = m->w2 + n2;
    m->gw1 = m->b2 + MLP_CLASSES;
    m->gb1 = m->gw1 + n1;
    m->gw2 = m->gb1 + hidden;
    m->gb2 = m->gw2 + n2;
    m->h = m->gb2 + MLP_CLASSES;
    m->dh = m->h + hidden;
    init_uniform(m->w1, n1, sqrt(6.0 / MLP_INPUTS), rng);
    init_uniform(m->w2, n2, sqrt(6.0 / (double)hidden), rng);
    return m;
}

/* Computes m->h and m->p for one input. Returns the predicted class. */
static int mlp_forward(struct mlp *m, const float *x)
{
    float z[MLP_CLASSES];
    float zmax, sum = 0.0f;
    int best = 0;

    for (size_t j = 0; j < m->hidden; j++) {
        const float *w = m->w1 + j * MLP_INPUTS;
        float a = m->b1[j];

        for (size_t i = 0; i < MLP_INPUTS; i++) {
            a += w[i] * x[i];
        }
        m->h[j] = a > 0.0f ? a : 0.0f;
    }
    for (int k = 0; k < MLP_CLASSES; k++) {
        const float *w = m->w2 + (size_t)k * m->hidden;
        float a = m->b2[k];

        for (size_t j = 0; j < m->hidden; j++) {
            a += w[j] * m->h[j];
        }
        z[k] = a;
        if (a > z[best]) {
            best = k;
        }
    }
    zmax = z[best]; /* subtracted so that expf cannot overflow */
    for (int k = 0; k < MLP_CLASSES; k++) {
        m->p[k] = expf(z[k] - zmax);
        sum += m->p[k];
    }
    for (int k = 0; k < MLP_CLASSES; k++) {
        m->p[k] /= sum;
    }
    return best;
}

/* Adds the gradient of the cross-entropy loss for label y to the g* arrays,
 * using the activations of the forward pass just run on x. */
static void mlp_backward(struct mlp *m, const float *x, int y)
{
    size_t hidden = m->hidden;

    memset(m->dh, 0, hidden * sizeof(*m->dh));
    for (int k = 0; k < MLP_CLASSES; k++) {
        float dz = m->p[k] - (k == y ? 1.0f : 0.0f);
        const float *w = m->w2 + (size_t)k * hidden;
        float *gw = m->gw2 + (size_t)k * hidden;

        m->gb2[k] += dz;
        for (size_t j = 0; j < hidden; j++) {
            gw[j] += dz * m->h[j];
            m->dh[j] += dz * w[j];
        }
    }
    for (size_t j = 0; j < hidden; j++) {
        float d = m->h[j] > 0.0f ? m->dh[j] : 0.0f; /* ReLU derivative */
        float *gw = m->gw1 + j * MLP_INPUTS;

        if (d == 0.0f) {
            continue;
        }
        m->gb1[j] += d;
        for (size_t i = 0; i < MLP_INPUTS; i++) {
            gw[i] += d * x[i];
        }
    }
}

/* w -= scale * g, then g = 0. */
static void sgd_apply(float *w, float *g, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) {
        w[i] -= scale * g[i];
        g[i] = 0.0f;
    }
}

/* One SGD step with the gradients summed over `count` samples. */
static void mlp_step(struct mlp *m, double lr, size_t count)
{
    float scale = (float)(lr / (double)count);

    sgd_apply(m->w1, m->gw1, m->hidden * MLP_INPUTS, scale);
    sgd_apply(m->b1, m->gb1, m->hidden, scale);
    sgd_apply(m->w2, m->gw2, MLP_CLASSES * m->hidden, scale);
    sgd_apply(m->b2, m->gb2, MLP_CLASSES, scale);
}

/* Trains one epoch over idx[0..n) in a fresh random order. Returns the mean
 * training loss (nats per sample) seen during the epoch. */
static double train_epoch(struct mlp *m, const struct dataset *ds, size_t *idx, size_t n,
                          const struct options *opt, uint64_t *rng)
{
    double loss = 0.0;

    shuffle(idx, n, rng);
    for (size_t start = 0; start < n; start += opt->batch) {
        size_t end = start + opt->batch < n ? start + opt->batch : n;

        for (size_t s = start; s < end; s++) {
            const float *x = ds->x + idx[s] * MLP_INPUTS;
            int y = ds->y[idx[s]];

            mlp_forward(m, x);
            loss -= log(fmax(m->p[y], 1e-30));
            mlp_backward(m, x, y);
        }
        mlp_step(m, opt->lr, end - start);
    }
    return loss / (double)n;
}

/* Returns the fraction of idx[0..n) that the network classifies correctly. */
static double evaluate(struct mlp *m, const struct dataset *ds, const size_t *idx, size_t n)
{
    size_t correct = 0;

    for (size_t s = 0; s < n; s++) {
        if (mlp_forward(m, ds->x + idx[s] * MLP_INPUTS) == ds->y[idx[s]]) {
            correct++;
        }
    }
    return (double)correct / (double)n;
}

/* Sends the final accuracy and the samples trained to the enclosing `wattprof run` or
 * `wattprof bench` through $WATTPROF_CONTROL (docs/control-protocol.md), as
 * `wattprof control metric accuracy X` would. Quietly does nothing outside wattprof. */
static void report_metric(double acc, uint64_t samples)
{
    const char *path = getenv("WATTPROF_CONTROL");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char line[128];
    if (!path || strlen(path) >= sizeof(sa.sun_path)) {
        return;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return;
    }
    int len = snprintf(line, sizeof(line), "metric accuracy %.6f\nrun-units %" PRIu64 " samples\n",
                       acc, samples);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        send(fd, line, (size_t)len, MSG_NOSIGNAL) != len) {
        fprintf(stderr, "mlp_train: cannot report the metric to '%s': %s\n", path, strerror(errno));
    }
    close(fd);
}

/* Runs the whole training and prints the results. Returns 0 or -ENOMEM. */
static int run(const struct options *opt, const struct dataset *ds)
{
    uint64_t rng = opt->seed;
    size_t ntrain = ds->n * 4 / 5;
    size_t ntest = ds->n - ntrain;
    size_t *idx = malloc(ds->n * sizeof(*idx));
    struct mlp *m = mlp_new(opt->hidden, &rng);
    double acc = 0.0;

    if (!idx || !m) {
        free(idx);
        mlp_free(m);
        return -ENOMEM;
    }
    for (size_t i = 0; i < ds->n; i++) {
        idx[i] = i;
    }
    shuffle(idx, ds->n, &rng); /* idx[0..ntrain) train, the rest test */
    printf("mlp %d-%u-%d train %zu test %zu batch %u lr %g seed %" PRIu64 "\n", MLP_INPUTS,
           opt->hidden, MLP_CLASSES, ntrain, ntest, opt->batch, opt->lr, opt->seed);
    for (unsigned e = 1; e <= opt->epochs; e++) {
        double loss = train_epoch(m, ds, idx, ntrain, opt, &rng);

        acc = evaluate(m, ds, idx + ntrain, ntest);
        printf("epoch %u train loss %.4f test accuracy %.4f\n", e, loss, acc);
    }
    printf("final test accuracy %.4f after %u epochs, %" PRIu64 " samples trained\n", acc,
           opt->epochs, (uint64_t)opt->epochs * ntrain);
    if (opt->report_metric) {
        report_metric(acc, (uint64_t)opt->epochs * ntrain);
    }
    mlp_free(m);
    free(idx);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mlp_train [--data PATH] [--epochs N] [--hidden H] [--batch B]\n"
            "                 [--lr X] [--seed S] [--report-metric]\n"
            "  --data PATH   digits CSV file (default: %s)\n"
            "  --epochs N    passes over the training set (default: %d)\n"
            "  --hidden H    hidden units (default: %d)\n"
            "  --batch B     samples per SGD step (default: %d)\n"
            "  --lr X        learning rate (default: %g)\n"
            "  --seed S      PRNG seed for split, init and order (default: %d)\n"
            "  --report-metric  send 'metric accuracy X' and the samples trained to the\n"
            "                enclosing wattprof run/bench ($WATTPROF_CONTROL)\n",
            WATTPROF_DEMO_DATA, MLP_DEFAULT_EPOCHS, MLP_DEFAULT_HIDDEN, MLP_DEFAULT_BATCH,
            MLP_DEFAULT_LR, MLP_DEFAULT_SEED);
}

/* Parses a decimal integer in [min, max]. Returns 0 or -EINVAL. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *value)
{
    char *end;

    if (*s < '0' || *s > '9') { /* strtoull would accept "-1" and spaces */
        return -EINVAL;
    }
    errno = 0;
    *value = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || *value < min || *value > max) {
        return -EINVAL;
    }
    return 0;
}

static int parse_unsigned(const char *s, unsigned max, unsigned *value)
{
    uint64_t v;

    if (parse_u64(s, 1, max, &v) < 0) {
        return -EINVAL;
    }
    *value = (unsigned)v;
    return 0;
}

/* The learning rate, a finite number in (0, 10]. strtod follows the locale,
 * which stays "C" because this program never calls setlocale(). */
static int parse_lr(const char *s, double *value)
{
    char *end;

    errno = 0;
    *value = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !(*value > 0.0 && *value <= 10.0)) {
        return -EINVAL;
    }
    return 0;
}

/* Applies one option to opt. Returns 0 or -EINVAL. */
static int apply_option(struct options *opt, int c, const char *arg)
{
    switch (c) {
    case 'd':
        opt->data_path = arg;
        return 0;
    case 'e':
        return parse_unsigned(arg, 1000000, &opt->epochs);
    case 'H':
        return parse_unsigned(arg, 65536, &opt->hidden);
    case 'b':
        return parse_unsigned(arg, 1000000, &opt->batch);
    case 'l':
        return parse_lr(arg, &opt->lr);
    case 's':
        return parse_u64(arg, 0, UINT64_MAX, &opt->seed);
    case 'r':
        opt->report_metric = 1;
        return 0;
    default:
        return -EINVAL;
    }
}

/* Explains a ':' (missing argument) or '?' (unknown option) from
 * getopt_long. Unknown short options may sit inside a cluster such as "-xy",
 * so they are named by optopt rather than by argv[optind - 1]. */
static void report_bad_option(int c, char **argv)
{
    if (c == ':') {
        fprintf(stderr, "mlp_train: missing argument for option '%s'\n", argv[optind - 1]);
    } else if (optopt != 0) {
        fprintf(stderr, "mlp_train: unknown option '-%c'\n", optopt);
    } else {
        fprintf(stderr, "mlp_train: unknown option '%s'\n", argv[optind - 1]);
    }
}

/* Fills opt from argv. Returns 0, 1 after --help, or -EINVAL after
 * printing the problem. */
static int parse_options(struct options *opt, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "epochs", required_argument, NULL, 'e' },
        { "hidden", required_argument, NULL, 'H' },
        { "batch", required_argument, NULL, 'b' },
        { "lr", required_argument, NULL, 'l' },
        { "seed", required_argument, NULL, 's' },
        { "report-metric", no_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int longindex = 0;

    opterr = 0; /* we print our own messages */
    for (;;) {
        int c = getopt_long(argc, argv, ":", longopts, &longindex); /* ":" reports ':' */
        if (c == -1) {
            break;
        }
        if (c == 'h') {
            return 1;
        }
        if (c == ':' || c == '?') {
            report_bad_option(c, argv);
            return -EINVAL;
        }
        if (apply_option(opt, c, optarg) < 0) {
            fprintf(stderr, "mlp_train: invalid value '%s' for --%s\n", optarg,
                    longopts[longindex].name);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mlp_train: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options opt = {
        .data_path = WATTPROF_DEMO_DATA,
        .epochs = MLP_DEFAULT_EPOCHS,
        .hidden = MLP_DEFAULT_HIDDEN,
        .batch = MLP_DEFAULT_BATCH,
        .lr = MLP_DEFAULT_LR,
        .seed = MLP_DEFAULT_SEED,
    };
    struct dataset ds = { 0 };
    char errmsg[MLP_ERRMSG_SIZE];
    int r;

    r = parse_options(&opt, argc, argv);
    if (r != 0) {
        usage(r > 0 ? stdout : stderr);
        return r > 0 ? 0 : 2;
    }
    r = dataset_load(&ds, opt.data_path, errmsg, sizeof(errmsg));
    if (r == 0) {
        r = run(&opt, &ds);
        if (r < 0) {
            snprintf(errmsg, sizeof(errmsg), "out of memory");
        }
    }
    dataset_release(&ds);
    if (r < 0) {
        fprintf(stderr, "mlp_train: %s\n", errmsg);
        return 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "mlp_train: cannot write output: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
