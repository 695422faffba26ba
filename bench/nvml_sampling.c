/* The sampler's cost with GPUs: the nvml backend on the fake NVML with 8 energy-counter
 * GPUs, plus rapl-powercap on a fixture tree, sampled at 10 Hz for 10 s. Prints the CPU
 * time the whole process used meanwhile (getrusage RUSAGE_SELF: the sampler thread and
 * the fake library's work) as a share of one core. The fake answers in microseconds; a
 * real driver's calls take longer (the energy counter ~2 ms each on some boards).
 * usage: nvml_sampling FAKE_NVML_LIB SYSFS_ROOT [SECONDS]
 * e.g. (from the build dir) bench/nvml_sampling tests/libfake_nvml.so
 *      ../tests/fixtures/sysfs/intel-2s-server */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sampler.h"
#include "sensor.h"

#define HZ 10
#define GPUS                                                                                       \
    "energy:300,energy:300,energy:300,energy:300,energy:300,energy:300,energy:300,"                \
    "energy:300"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double wall_seconds(void)
{
    return (double)sensor_now_ns() / 1e9;
}

/* Opens one backend into s; returns 0 or prints why and returns 1. */
static int open_sensor(struct sensor *s, const struct sensor_ops *ops, const char *sysfs,
                       const struct sensor_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    s->sysfs_root = sysfs;
    s->proc_root = "/proc";
    s->cfg = cfg;
    s->priv = calloc(1, ops->priv_size);
    if (s->priv == NULL)
        return 1;
    int r = ops->open(s);
    if (r < 0) {
        fprintf(stderr, "nvml_sampling: cannot open %s: %s\n", ops->name, s->errmsg);
        return 1;
    }
    return 0;
}

static void sleep_s(double seconds)
{
    struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int main(int argc, char **argv)
{
    static struct sensor sensors[2];
    static struct sampler sp;
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: nvml_sampling FAKE_NVML_LIB SYSFS_ROOT [SECONDS]\n");
        return 2;
    }
    double seconds = argc == 4 ? strtod(argv[3], NULL) : 10.0;
    struct sensor_config cfg = { .nvml_lib = argv[1] };
    setenv("FAKE_NVML_DEVICES", GPUS, 1);
    if (open_sensor(&sensors[0], &nvml_sensor_ops, "/sys", &cfg) ||
        open_sensor(&sensors[1], &rapl_powercap_sensor_ops, argv[2], &cfg))
        return 1;
    struct sensor *list[2] = { &sensors[0], &sensors[1] };
    if (sampler_init(&sp, list, 2, 1000000000ull / HZ) < 0)
        return 1;
    double cpu0 = cpu_seconds();
    double t0 = wall_seconds();
    if (sampler_start(&sp) < 0)
        return 1;
    sleep_s(seconds);
    sampler_stop(&sp);
    double cpu = cpu_seconds() - cpu0;
    double wall = wall_seconds() - t0;
    printf("nvml_sampling: %zu GPU + %zu RAPL channels at %d Hz for %.1f s: %llu samples, "
           "%.3f ms CPU, %.4f %% of one core\n",
           sensors[0].n_channels, sensors[1].n_channels, HZ, wall, (unsigned long long)sp.n_samples,
           cpu * 1e3, cpu / wall * 100);
    sampler_release(&sp);
    for (size_t i = 0; i < 2; i++) {
        sensors[i].ops->close(&sensors[i]);
        free(sensors[i].priv);
    }
    return 0;
}
