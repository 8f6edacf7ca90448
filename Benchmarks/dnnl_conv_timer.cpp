// Times one float32 convolution in oneDNN 2.x (Debian's libdnnl-dev) the way an NCHW caller would run it.
// compare_peers.py compiles this at run time into a temporary folder:
//     g++ -O2 -std=c++17 -fopenmp dnnl_conv_timer.cpp -ldnnl
// and runs it once per convolution case:
//     timer --version
//     timer N C H W K G KH KW SH SW DH DW PT PL PB PR THREADS REPETITIONS SRC.bin WEIGHTS.bin DST.bin
// 1-D convolutions come in as 2-D with H = 1 (KH = 1, SH = 1, DH = 1, PT = PB = 0). Dilations are ONNX's (1 = none).
// SRC.bin and WEIGHTS.bin hold the NCHW input and the ONNX weights ([K, C/G, KH, KW], float32, native order); the
// timer writes the NCHW output of one run to DST.bin so that the script can check it computes the same function.
//
// Two variants, both forward inference, algorithm convolution_auto (oneDNN may pick Winograd; the implementation
// name says so), with weights in the layout oneDNN prefers (format_tag::any, reordered
// once, outside the timed loop):
//   "nchw": src and dst memory descriptors fixed to nchw, so oneDNN must pick an implementation that reads and
//           writes NCHW itself;
//   "any":  src and dst format_tag::any too; when oneDNN picks a blocked layout (nChw16c, ...) each timed run
//           includes the src reorder from NCHW and the dst reorder back to NCHW - what an NCHW caller pays.
// One JSON line per variant on stdout: variant, implementation (impl_info_str), median and min ms, runs.
// Timing as in `cnnkit bench`: warm-up (one run and at least 50 ms), then at least REPETITIONS runs each timed
// alone with CLOCK_MONOTONIC, more for short cases (about 0.25 s, at most 1000 runs).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <omp.h>

#include "oneapi/dnnl/dnnl.hpp"

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

static double now_seconds() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static std::vector<float> read_floats(const char *path, size_t count) {
    std::vector<float> v(count);
    std::ifstream f(path, std::ios::binary);
    if (!f.read(reinterpret_cast<char *>(v.data()), count * sizeof(float))) {
        std::fprintf(stderr, "cannot read %zu floats from %s\n", count, path);
        std::exit(2);
    }
    return v;
}

static void write_floats(const char *path, const float *data, size_t count) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char *>(data), count * sizeof(float));
}

struct Timing {
    double median_ms, min_ms;
    int runs;
};

static Timing time_runs(const std::function<void()> &run, int repetitions) {
    auto once = [&] {
        double start = now_seconds();
        run();
        return now_seconds() - start;
    };
    double first = once(), warm = first, fastest = first;
    for (int i = 1; warm < 0.05 && i < 100; i++) {
        double t = once();
        warm += t;
        fastest = std::min(fastest, t);
    }
    int count = repetitions;
    if (fastest > 0) count = std::max(repetitions, std::min(1000, int(0.25 / fastest)));
    std::vector<double> samples(count);
    for (auto &s : samples) s = once();
    std::sort(samples.begin(), samples.end());
    double median = count % 2 ? samples[count / 2] : 0.5 * (samples[count / 2 - 1] + samples[count / 2]);
    return {median * 1e3, samples[0] * 1e3, count};
}

int main(int argc, char **argv) {
    if (argc == 2 && std::string(argv[1]) == "--version") {  // the library actually loaded, not the header's
        const dnnl_version_t *v = dnnl_version();
        std::printf("%d.%d.%d\n", v->major, v->minor, v->patch);
        return 0;
    }
    if (argc != 22) {
        std::fprintf(stderr, "usage: %s N C H W K G KH KW SH SW DH DW PT PL PB PR THREADS REPETITIONS SRC WEIGHTS DST\n",
                argv[0]);
        return 2;
    }
    long a[18];
    for (int i = 0; i < 18; i++) a[i] = std::atol(argv[i + 1]);
    const long N = a[0], C = a[1], H = a[2], W = a[3], K = a[4], G = a[5], KH = a[6], KW = a[7];
    const long SH = a[8], SW = a[9], DH = a[10], DW = a[11], PT = a[12], PL = a[13], PB = a[14], PR = a[15];
    const int threads = int(a[16]), repetitions = int(a[17]);
    const char *src_path = argv[19], *weights_path = argv[20], *dst_path = argv[21];

    // libdnnl is built on OpenMP (libgomp): set its thread count here rather than through OMP_NUM_THREADS.
    omp_set_num_threads(threads);

    const long OH = (H + PT + PB - (DH * (KH - 1) + 1)) / SH + 1;
    const long OW = (W + PL + PR - (DW * (KW - 1) + 1)) / SW + 1;
    memory::dims src_dims = {N, C, H, W}, dst_dims = {N, K, OH, OW};
    memory::dims weights_dims = G > 1 ? memory::dims{G, K / G, C / G, KH, KW} : memory::dims{K, C, KH, KW};
    const tag user_weights_tag = G > 1 ? tag::goihw : tag::oihw;  // ONNX [K, C/G, KH, KW] is goihw in memory

    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    std::vector<float> src = read_floats(src_path, size_t(N * C * H * W));
    std::vector<float> weights = read_floats(weights_path, size_t(K * (C / G) * KH * KW));
    std::vector<float> dst(size_t(N * K * OH * OW));
    memory user_src({src_dims, dt::f32, tag::nchw}, eng, src.data());
    memory user_weights({weights_dims, dt::f32, user_weights_tag}, eng, weights.data());
    memory user_dst({dst_dims, dt::f32, tag::nchw}, eng, dst.data());

    bool wrote_output = false;
    for (const char *variant : {"nchw", "any"}) {
        const bool fixed = std::string(variant) == "nchw";
        const tag io_tag = fixed ? tag::nchw : tag::any;
        convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_auto,
                memory::desc(src_dims, dt::f32, io_tag), memory::desc(weights_dims, dt::f32, tag::any),
                memory::desc(dst_dims, dt::f32, io_tag), {SH, SW}, {DH - 1, DW - 1}, {PT, PL}, {PB, PR});
        convolution_forward::primitive_desc pd;
        try {
            pd = convolution_forward::primitive_desc(desc, eng);
        } catch (const error &e) {
            std::printf("{\"variant\": \"%s\", \"error\": \"%s\"}\n", variant, e.what());
            continue;
        }
        convolution_forward conv(pd);

        // Weights: once, untimed (a caller reorders them when it loads the model).
        memory conv_weights = user_weights;
        if (pd.weights_desc() != user_weights.get_desc()) {
            conv_weights = memory(pd.weights_desc(), eng);
            reorder(user_weights, conv_weights).execute(strm, user_weights, conv_weights);
        }
        // src/dst: reorders inside the timed run when the primitive wants another layout than NCHW.
        const bool reorder_src = pd.src_desc() != user_src.get_desc();
        const bool reorder_dst = pd.dst_desc() != user_dst.get_desc();
        memory conv_src = reorder_src ? memory(pd.src_desc(), eng) : user_src;
        memory conv_dst = reorder_dst ? memory(pd.dst_desc(), eng) : user_dst;
        reorder src_reorder, dst_reorder;
        if (reorder_src) src_reorder = reorder(user_src, conv_src);
        if (reorder_dst) dst_reorder = reorder(conv_dst, user_dst);

        auto run = [&] {
            if (reorder_src) src_reorder.execute(strm, user_src, conv_src);
            conv.execute(strm, {{DNNL_ARG_SRC, conv_src}, {DNNL_ARG_WEIGHTS, conv_weights}, {DNNL_ARG_DST, conv_dst}});
            if (reorder_dst) dst_reorder.execute(strm, conv_dst, user_dst);
            strm.wait();
        };
        std::fill(dst.begin(), dst.end(), 0.0f);
        run();
        // Each variant's output is checked by the script: write both, the second with a suffix.
        std::string path = std::string(dst_path) + "." + variant;
        write_floats(path.c_str(), dst.data(), dst.size());
        wrote_output = true;
        Timing t = time_runs(run, repetitions);
        std::printf("{\"variant\": \"%s\", \"impl\": \"%s\", \"src_reorder\": %s, \"dst_reorder\": %s, "
                    "\"median_ms\": %.6f, \"min_ms\": %.6f, \"runs\": %d, \"output\": \"%s\"}\n",
                variant, pd.impl_info_str(), reorder_src ? "true" : "false", reorder_dst ? "true" : "false",
                t.median_ms, t.min_ms, t.runs, path.c_str());
        std::fflush(stdout);
    }
    return wrote_output ? 0 : 1;
}
