#!/usr/bin/env python3
"""Times the CNNKit benchmark suite in CNNKit and in peer libraries, in one run, with the same thread count.

Peers (each only on the cases where it computes the same function as the suite case, checked numerically):
  onnxruntime  every case: a one-node ONNX model on the CPU execution provider, preallocated input/output (IOBinding)
  onednn       convolutions, when Debian's libdnnl-dev (oneDNN 2.x) is installed: a small C++ timer
               (Benchmarks/dnnl_conv_timer.cpp) compiled at run time; forward inference on NCHW src/dst, weights in
               oneDNN's preferred layout (reordered once, untimed); src/dst reorders to and from a blocked layout
               are timed when oneDNN picks one - the faster of "src/dst fixed to nchw" and "src/dst any + reorders"
  opencv       opencv-python-headless, per NCHW plane into preallocated dst planes: cv2.filter2D for convolutions
               with one output channel per group (sobel, gaussian, depthwise), cv2.resize for resizes and 2x2/2
               average pooling whose ONNX semantics equal an OpenCV interpolation mode
  jax          backward cases only ("pass": backward / backward_data / backward_weights): jax.jit of jax.vjp of
               lax.conv_general_dilated (float32, CPU), the wanted gradients of X, W and dL/dY on device arrays;
               XLA's CPU pool limited to --threads (XLA_FLAGS intra_op_parallelism_threads, and CPU affinity when
               --threads is below the core count). The other peers have no backward pass and skip these cases.

CNNKit is timed by `cnnkit bench --json` in the same run (or read from an earlier --cnnkit-json file), with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from the environment: a user would not have them set.

Every peer's output is compared once with an oracle on the same input and weights: a float64 numpy convolution for
Conv (its float64 adjoint, tap by tap, for the gradients of a backward case), onnxruntime's output for pooling and
resizing. A peer whose normalised max error (max |peer - oracle| /
max |oracle|) exceeds the tolerance is reported as "differs" and left out of the ratios.

The ratio is speed: best peer median / CNNKit median. 1.00 = as fast, above 1 = CNNKit faster.

Needs `pip install onnx onnxruntime numpy opencv-python-headless` (and `jax` for backward cases) and, for oneDNN, `apt-get install libdnnl-dev`
plus a C++ compiler. Examples, from the repo root (other benchmarks on the machine: wrap in flock):

    python3 Benchmarks/compare_peers.py --cnnkit .build/release/cnnkit --threads 2
    python3 Benchmarks/compare_peers.py --cnnkit .build/release/cnnkit --filter '^conv/mobilenet' --peers onednn,opencv
    python3 Benchmarks/compare_peers.py --cnnkit-json out.json --markdown   # reuse a `cnnkit bench --json` file
"""

import argparse
import gc
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_SUITE = os.path.join(ROOT, "Sources", "CNNKitBench", "Resources", "suite.json")
DNNL_TIMER_SOURCE = os.path.join(HERE, "dnnl_conv_timer.cpp")
ONEDNN_BUDGET_SECONDS = 120
ALL_PEERS = ("onnxruntime", "onednn", "opencv", "jax")
PEER_LABELS = {"onnxruntime": "ORT", "onednn": "oneDNN", "opencv": "OpenCV", "jax": "JAX"}
# A backward case's gradients ("pass" in the suite); forward cases have no "pass".
BACKWARD_GRADIENTS = {"backward": ("dx", "dw"), "backward_data": ("dx",), "backward_weights": ("dw",)}
# Environment variables a developer machine may carry but a user would not: removed before anything runs.
SCRUBBED_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# Normalised max error above which a peer "differs". Float32 sums in another order stay around 1e-6 of the
# largest output; a different function (another filter, another border rule) is off by 1e-2 or more.
TOLERANCE = {"conv": 1e-4, "pool": 1e-5, "resample": 1e-5}


def parse_arguments(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", default=DEFAULT_SUITE, help="suite JSON (default: the bundled suite)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for all (default: cores)")
    p.add_argument("--filter", default=None, help="regular expression on family/name, as in cnnkit bench")
    p.add_argument("--repetitions", type=int, default=10, help="timed runs per case, at least (default 10)")
    p.add_argument("--max-seconds", type=float, default=10, help="passed to cnnkit bench (default 10)")
    p.add_argument("--peers", default=",".join(ALL_PEERS),
                   help=f"comma-separated subset of {','.join(ALL_PEERS)} (default: all)")
    p.add_argument("--backend", default=None,
                   help="CNNKit backend to compare (default: c if registered, else the first non-reference "
                        "backend in the JSON, else reference)")
    p.add_argument("--cnnkit", default=None,
                   help="path of a cnnkit binary (default: build it with `swift build -c release` in the repo)")
    p.add_argument("--cnnkit-json", default=None, help="read this `cnnkit bench --json` file instead of running cnnkit")
    p.add_argument("--also-algorithm", action="append", default=[], metavar="NAME",
                   help="also time CNNKit with this convolution algorithm forced (`cnnkit bench --algorithm NAME`), "
                        "in the same run; adds a column per NAME, e.g. --also-algorithm direct (repeatable)")
    p.add_argument("--cxx", default=shutil.which("c++") or shutil.which("g++") or "c++",
                   help="C++ compiler for the oneDNN timer (default: c++)")
    p.add_argument("--json", default=None, help="also write the comparison to this JSON file")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = p.parse_args(argv)
    args.peers = [name.strip() for name in args.peers.split(",") if name.strip()]
    unknown = [name for name in args.peers if name not in ALL_PEERS]
    if unknown:
        p.error(f"unknown peer(s) {', '.join(unknown)}; choose from {', '.join(ALL_PEERS)}")
    return args


class Skip(Exception):
    """A peer does not compute this case's function (or cannot run it); the message says why."""


# ---- environment ------------------------------------------------------------------------------------------------

def scrub_environment():
    """Removes the variables a user would not have, from this process (and so every child); returns what was set.

    Done before numpy or any library is imported, so no peer and no oracle sees them either."""
    found = {name: os.environ.pop(name) for name in SCRUBBED_ENVIRONMENT if name in os.environ}
    if found:
        listed = ", ".join(f"{k}={v}" for k, v in found.items())
        print(f"environment: found {listed}; removed for this run (a user would not have them)", file=sys.stderr)
    else:
        print(f"environment: none of {', '.join(SCRUBBED_ENVIRONMENT)} set", file=sys.stderr)
    return found


# ---- case data and oracle ---------------------------------------------------------------------------------------

def case_tensors(case):
    """The input (and Conv weights) every peer gets: uniform in [-1, 1], fixed seeds, float32."""
    import numpy as np
    x = np.random.default_rng(1).uniform(-1, 1, size=case["input_shape"]).astype(np.float32)
    w = None
    if case["op"] == "Conv":
        w = np.random.default_rng(0x5EED).uniform(-1, 1, size=case["weight_shape"]).astype(np.float32)
    return x, w


def _conv_parts(case, x, w):
    """What both float64 oracles start from: the padded input grouped as [N, G, C/G, ...], the weights as
    [G, M/G, C/G, k...], and a function giving the strided input window a kernel tap reads."""
    import numpy as np
    a = case["attributes"]
    spatial = len(case["input_shape"]) - 2
    strides, dilations = a.get("strides", [1] * spatial), a.get("dilations", [1] * spatial)
    pads, group = a.get("pads", [0] * 2 * spatial), a.get("group", 1)
    n, c = x.shape[:2]
    k = w.shape[0]
    padded = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(pads[i], pads[i + spatial]) for i in range(spatial)])
    padded = padded.reshape(n, group, c // group, *padded.shape[2:])
    weights = w.astype(np.float64).reshape(group, k // group, c // group, *w.shape[2:])
    out_spatial = case["output_shape"][2:]

    def window(tap):
        return (slice(None), slice(None), slice(None)) + tuple(
            slice(tap[i] * dilations[i], tap[i] * dilations[i] + (out_spatial[i] - 1) * strides[i] + 1, strides[i])
            for i in range(spatial))
    return padded, weights, out_spatial, window, strides, dilations, pads


def conv_reference(case, x, w):
    """ONNX Conv (cross-correlation, zero pads, groups, no bias) in float64, one kernel tap at a time — or, for a
    large dense kernel with one input and one output channel per group (an image filter: 49x49, 301x301 Gaussians),
    scipy's float64 FFT correlation per plane, whose error (~1e-15) is as far below the peers' as the tap loop's."""
    import numpy as np
    padded, weights, out_spatial, window, strides, dilations, _ = _conv_parts(case, x, w)
    n, group = padded.shape[:2]
    taps = int(np.prod(w.shape[2:]))
    if taps > 1024 and weights.shape[1:3] == (1, 1) and all(d == 1 for d in dilations):
        from scipy.signal import correlate
        out = np.zeros((n, group, 1, *out_spatial))
        subsample = tuple(slice(0, (out_spatial[i] - 1) * strides[i] + 1, strides[i]) for i in range(len(out_spatial)))
        for b in range(n):
            for g in range(group):
                full = correlate(padded[b, g, 0], weights[g, 0, 0], mode="valid", method="fft")
                out[b, g, 0] = full[subsample]
        return out.reshape(case["output_shape"])
    out = np.zeros((n, group, weights.shape[1], *out_spatial))
    for tap in np.ndindex(*w.shape[2:]):
        out += np.einsum("gkc,ngc...->ngk...", weights[(Ellipsis,) + tap], padded[window(tap)], optimize=True)
    return out.reshape(case["output_shape"])


def backward_gradients(case):
    """("dx", "dw"), ("dx",) or ("dw",) for a backward case, () for a forward one."""
    return BACKWARD_GRADIENTS.get(case.get("pass", "forward"), ())


def output_gradient(case):
    """dL/dY of a backward case: uniform in [-1, 1], its own fixed seed, float32."""
    import numpy as np
    return np.random.default_rng(2).uniform(-1, 1, size=case["output_shape"]).astype(np.float32)


def conv_backward_reference(case, x, w, dy):
    """The adjoint of conv_reference in float64, tap by tap: {"dx": dL/dX, "dw": dL/dW} (the wanted ones)."""
    import numpy as np
    padded, weights, out_spatial, window, _, _, pads = _conv_parts(case, x, w)
    n, group = padded.shape[:2]
    spatial = len(out_spatial)
    g = dy.astype(np.float64).reshape(n, group, weights.shape[1], *out_spatial)
    dxp, dw = np.zeros_like(padded), np.zeros_like(weights)
    for tap in np.ndindex(*w.shape[2:]):
        dw[(Ellipsis,) + tap] = np.einsum("ngk...,ngc...->gkc", g, padded[window(tap)], optimize=True)
        dxp[window(tap)] += np.einsum("gkc,ngk...->ngc...", weights[(Ellipsis,) + tap], g, optimize=True)
    dxp = dxp.reshape(n, x.shape[1], *dxp.shape[3:])
    crop = (slice(None), slice(None)) + tuple(slice(pads[i], pads[i] + x.shape[2 + i]) for i in range(spatial))
    grads = {"dx": dxp[crop], "dw": dw.reshape(w.shape)}
    return {name: grads[name] for name in backward_gradients(case)}


def normalised_max_error(output, oracle):
    import numpy as np
    if isinstance(oracle, dict):  # gradients: the worst of them, each against its own scale
        return max(normalised_max_error(output[name], oracle[name]) for name in oracle)
    scale = float(np.max(np.abs(oracle))) or 1.0
    return float(np.max(np.abs(output.astype(np.float64) - oracle))) / scale


# ---- timing -----------------------------------------------------------------------------------------------------

def time_callable(run, repetitions, minimum_seconds=0.25, max_runs=1000):
    """Median and minimum ms and run count, as `cnnkit bench` times: warm-up (one run and 50 ms), then at least
    `repetitions` runs each timed alone, more for short cases (about `minimum_seconds`, at most `max_runs`)."""
    def once():
        start = time.perf_counter()
        run()
        return time.perf_counter() - start

    first = once()
    warm, fastest, runs = first, first, 1
    while warm < 0.05 and runs < 100:
        t = once()
        warm += t
        fastest = min(fastest, t)
        runs += 1
    count = max(repetitions, min(max_runs, int(minimum_seconds / fastest) if fastest > 0 else max_runs))
    samples = [once() for _ in range(count)]
    return {"median_ms": statistics.median(samples) * 1e3, "min_ms": min(samples) * 1e3, "runs": count}


# ---- onnxruntime ------------------------------------------------------------------------------------------------

def build_model(case, w):
    """A one-node ONNX model for a suite case: input X, output Y, constants as initializers."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inputs = ["X"]
    initializers = []
    op = case["op"]
    if op == "Conv":
        initializers.append(numpy_helper.from_array(w, "W"))
        inputs.append("W")
    elif op == "Resize":
        extra = case.get("onnx_inputs") or {}
        values = [("roi", extra.get("roi") or [], np.float32), ("scales", extra.get("scales") or [], np.float32),
                  ("sizes", extra.get("sizes") or [], np.int64)]
        names = []
        for name, value, dtype in values:
            if value:
                initializers.append(numpy_helper.from_array(np.array(value, dtype=dtype), name))
            names.append(name if value else "")
        while names and names[-1] == "":
            names.pop()
        inputs += names
    node = helper.make_node(op, inputs, ["Y"], **case["attributes"])
    graph = helper.make_graph(
        [node], case["name"],
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, case["input_shape"])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, case["output_shape"])],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", case.get("opset", 18))])
    model.ir_version = min(onnx.IR_VERSION, 10)
    onnx.checker.check_model(model)
    return model


def run_onnxruntime(case, x, w, threads, repetitions, timed=True):
    """onnxruntime (CPU EP) on preallocated buffers: timing (if `timed`) and the output of one run."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(build_model(case, w).SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    y = np.zeros(case["output_shape"], dtype=np.float32)
    binding = session.io_binding()
    binding.bind_cpu_input("X", x)
    binding.bind_ortvalue_output("Y", ort.OrtValue.ortvalue_from_numpy(y))
    session.run_with_iobinding(binding)
    result = {"output": y.copy(), "impl": "CPUExecutionProvider"}
    if timed:
        result.update(time_callable(lambda: session.run_with_iobinding(binding), repetitions))
    # Drop the session now: its spinning intra-op threads must not steal the cores from the next peer.
    del binding, session
    gc.collect()
    return result


# ---- oneDNN -----------------------------------------------------------------------------------------------------

def build_dnnl_timer(compiler, folder):
    """Compiles dnnl_conv_timer.cpp into `folder`; returns (binary, oneDNN version) or raises Skip."""
    binary = os.path.join(folder, "dnnl_conv_timer")
    command = [compiler, "-O2", "-std=c++17", "-fopenmp", DNNL_TIMER_SOURCE, "-o", binary, "-ldnnl"]
    try:
        build = subprocess.run(command, capture_output=True, text=True)
    except OSError as error:
        raise Skip(f"no C++ compiler ({error})")
    if build.returncode != 0:
        first = (build.stderr.strip().splitlines() or ["?"])[0][:160]
        raise Skip(f"cannot build the oneDNN timer (apt-get install libdnnl-dev?): {first}")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return binary, version


def dnnl_geometry(case):
    """The timer's 18 integer arguments but threads/repetitions; 1-D convolutions as 2-D with H = 1."""
    a = case["attributes"]
    n, c, *spatial = case["input_shape"]
    k, _, *kernel = case["weight_shape"]
    rank = len(spatial)
    if rank not in (1, 2):
        raise Skip(f"{rank}-D convolution")
    if a.get("auto_pad", "NOTSET") != "NOTSET":
        raise Skip("auto_pad")
    strides, dilations = a.get("strides", [1] * rank), a.get("dilations", [1] * rank)
    pads = a.get("pads", [0] * 2 * rank)
    if rank == 1:
        spatial, kernel, strides, dilations = [1] + spatial, [1] + kernel, [1] + strides, [1] + dilations
        pads = [0, pads[0], 0, pads[1]]
    return [n, c, spatial[0], spatial[1], k, a.get("group", 1), kernel[0], kernel[1], strides[0], strides[1],
            dilations[0], dilations[1], pads[0], pads[1], pads[2], pads[3]]


def describe_dnnl_variant(variant, chosen):
    """E.g. `any: brgconv:avx512_core + src,dst reorders 0.51 ms (used)`."""
    if "median_ms" not in variant:
        return f"{variant['variant']}: {variant.get('error', 'failed')}"
    reorders = ",".join(side for side in ("src", "dst") if variant[f"{side}_reorder"])
    return (f"{variant['variant']}: {variant['impl']}" + (f" + {reorders} reorders" if reorders else "")
            + f" {variant['median_ms']:.3f} ms" + (" (used)" if chosen else ""))


def run_onednn(case, x, w, threads, repetitions, timer, folder):
    """The oneDNN timer on the case; the faster of its two variants (src/dst nchw, src/dst any + reorders)."""
    import numpy as np
    if case["op"] != "Conv":
        raise Skip("convolutions only")
    geometry = dnnl_geometry(case)
    paths = [os.path.join(folder, name) for name in ("src.bin", "weights.bin", "dst.bin")]
    x.tofile(paths[0])
    w.tofile(paths[1])
    command = [timer, *map(str, geometry), str(threads), str(repetitions), *paths]
    # oneDNN 2.6 has no fast path for large depthwise kernels (49x49 ran for over 10 minutes): give up after a budget.
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=ONEDNN_BUDGET_SECONDS)
    except subprocess.TimeoutExpired:
        raise Skip(f"oneDNN: over {ONEDNN_BUDGET_SECONDS} s for {repetitions} repetitions")
    variants = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    timed = [v for v in variants if "median_ms" in v]
    if not timed:
        raise Skip(f"oneDNN: {done.stderr.strip()[:160] or variants}")
    best = min(timed, key=lambda v: v["median_ms"])
    for v in timed:  # both variants must compute the function; the check below sees the chosen one
        v["output_array"] = np.fromfile(v.pop("output"), dtype=np.float32).reshape(case["output_shape"])
    return {"median_ms": best["median_ms"], "min_ms": best["min_ms"], "runs": best["runs"],
            "output": best["output_array"], "impl": best["impl"],
            "method": "; ".join(describe_dnnl_variant(v, v is best) for v in variants),
            "variants": [{k: v for k, v in variant.items() if k != "output_array"} for variant in variants],
            "variant_outputs": {v["variant"]: v["output_array"] for v in timed}}


# ---- OpenCV -----------------------------------------------------------------------------------------------------

def opencv_filter_plan(case):
    """For a Conv whose every group has one input and one output channel (a per-plane 2-D filter): the stride.
    cv2.filter2D with the kernel centred (anchor -1,-1) and BORDER_CONSTANT (zeros) is ONNX's cross-correlation
    with symmetric pads of k//2; a stride of 2 is filter2D at stride 1 and every 2nd pixel (4x the work)."""
    a = case["attributes"]
    c, k, group = case["input_shape"][1], case["weight_shape"][0], a.get("group", 1)
    kernel = case["weight_shape"][2:]
    if len(kernel) != 2:
        raise Skip(f"1-D convolution, {k} outputs from {c // group} channel(s) per group")
    if not (group == c == k):
        raise Skip(f"{k} outputs from {c // group} channels per group (filter2D makes one plane from one plane)")
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise Skip("dilated")
    if any(size % 2 == 0 for size in kernel) or a.get("pads") != [kernel[0] // 2, kernel[1] // 2] * 2:
        raise Skip("pads are not k//2 on every side (filter2D centres the kernel)")
    strides = a.get("strides", [1, 1])
    if strides[0] != strides[1] or strides[0] not in (1, 2):
        raise Skip(f"stride {strides}")
    return strides[0]


def opencv_resize_mode(case):
    """The cv2.resize interpolation whose result is the case's function, or Skip. Candidates are verified anyway."""
    import cv2
    a = case["attributes"]
    op = case["op"]
    if op == "AveragePool":
        if a.get("kernel_shape") == [2, 2] and a.get("strides") == [2, 2] and not any(a.get("pads", [0])) \
                and not a.get("ceil_mode"):
            return cv2.INTER_AREA, "cv2.resize INTER_AREA x0.5 (2x2 box mean)"
        raise Skip("not a 2x2/2 average (no OpenCV resize equals it)")
    if op != "Resize":
        raise Skip(f"{op}: no OpenCV function with the same semantics")
    mode, transform = a.get("mode", "nearest"), a.get("coordinate_transformation_mode", "half_pixel")
    antialias = a.get("antialias", 0)
    if a.get("exclude_outside", 0):
        raise Skip("exclude_outside")
    if mode == "nearest" and transform == "asymmetric" and a.get("nearest_mode") == "floor":
        return cv2.INTER_NEAREST, "cv2.resize INTER_NEAREST"
    if mode == "linear" and transform == "half_pixel" and not antialias:
        return cv2.INTER_LINEAR, "cv2.resize INTER_LINEAR"
    if mode == "cubic" and transform == "half_pixel" and not antialias and a.get("cubic_coeff_a", -0.75) == -0.75:
        return cv2.INTER_CUBIC, "cv2.resize INTER_CUBIC"
    if mode == "linear" and transform == "half_pixel" and antialias:
        # Antialiased linear at /2 is a 4-tap triangle, INTER_AREA a 2-tap box: tried so that the check shows it.
        return cv2.INTER_AREA, "cv2.resize INTER_AREA (candidate for antialiased linear)"
    raise Skip(f"Resize {mode}/{transform}: no OpenCV mode with the same semantics")


def run_opencv(case, x, w, threads, repetitions):
    """OpenCV per NCHW plane, all planes in one timed loop, into preallocated output planes (dst=)."""
    import cv2
    import numpy as np
    cv2.setNumThreads(threads)
    y = np.zeros(case["output_shape"], dtype=np.float32)
    planes = [(n, c) for n in range(x.shape[0]) for c in range(x.shape[1])]
    if case["op"] == "Conv":
        stride = opencv_filter_plan(case)
        scratch = np.zeros(x.shape[2:], dtype=np.float32)
        jobs = [(x[n, c], y[n, c], np.ascontiguousarray(w[c, 0])) for n, c in planes]

        def apply(src, dst, kernel):
            target = dst if stride == 1 else scratch
            written = cv2.filter2D(src, -1, kernel, dst=target, anchor=(-1, -1), delta=0,
                                   borderType=cv2.BORDER_CONSTANT)
            if stride != 1:
                np.copyto(dst, scratch[::stride, ::stride])
            return written, target
        method = "cv2.filter2D per plane" + ("" if stride == 1 else f", stride 1 then every {stride}nd pixel")
    else:
        interpolation, method = opencv_resize_mode(case)
        size = (y.shape[3], y.shape[2])  # OpenCV sizes are (width, height)
        jobs = [(x[n, c], y[n, c]) for n, c in planes]

        def apply(src, dst):
            return cv2.resize(src, size, dst=dst, interpolation=interpolation), dst

    # dst= must be written in place: a binding that allocated instead would time allocations and leave y zero.
    written, target = apply(*jobs[0])
    if not np.shares_memory(written, target):
        raise Skip("cv2 did not write into the preallocated dst")

    def run():
        for job in jobs:
            apply(*job)
    run()
    result = {"output": y.copy(), "impl": f"OpenCV {cv2.__version__}", "method": method}
    result.update(time_callable(run, repetitions))
    return result


# ---- jax ---------------------------------------------------------------------------------------------------------

def jax_environment(threads):
    """XLA_FLAGS for `threads` intra-op threads; set before jax is first imported (XLA reads them once)."""
    flags = os.environ.get("XLA_FLAGS", "")
    wanted = f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={threads}"
    if wanted not in flags:
        os.environ["XLA_FLAGS"] = (flags + " " + wanted).strip()
    return os.environ["XLA_FLAGS"]


def run_jax(case, x, w, dy, threads, repetitions):
    """jax.jit(jax.vjp of lax.conv_general_dilated) on device arrays: the wanted gradients, timed to
    block_until_ready (the output buffers XLA allocates per call are part of its cost)."""
    import numpy as np
    wanted = backward_gradients(case)
    if not wanted:
        raise Skip("backward cases only (jax.vjp of lax.conv_general_dilated)")
    a = case["attributes"]
    if a.get("auto_pad", "NOTSET") != "NOTSET":
        raise Skip("auto_pad")
    spatial = len(case["input_shape"]) - 2
    strides, dilations = a.get("strides", [1] * spatial), a.get("dilations", [1] * spatial)
    pads, group = a.get("pads", [0] * 2 * spatial), a.get("group", 1)
    cpus = sorted(os.sched_getaffinity(0))
    if threads < len(cpus):  # XLA sizes its pool by the affinity mask when the pool is made (first run below)
        os.sched_setaffinity(0, cpus[:threads])
    try:
        import jax
        from jax import lax
        layout = "NC" + "DHW"[3 - spatial:]
        numbers = lax.conv_dimension_numbers(x.shape, w.shape, (layout, "OI" + layout[2:], layout))

        def forward(xv, wv):
            return lax.conv_general_dilated(
                xv, wv, window_strides=strides, padding=[(pads[i], pads[i + spatial]) for i in range(spatial)],
                rhs_dilation=dilations, dimension_numbers=numbers, feature_group_count=group,
                precision=lax.Precision.HIGHEST)

        @jax.jit
        def gradients(xv, wv, gv):
            _, pullback = jax.vjp(forward, xv, wv)
            dx, dw = pullback(gv)
            return tuple({"dx": dx, "dw": dw}[name] for name in wanted)

        device = jax.devices("cpu")[0]
        xs, ws, gs = (jax.device_put(v, device) for v in (x, w, dy))
        out = jax.block_until_ready(gradients(xs, ws, gs))
        if any(o.dtype != np.float32 for o in out):
            raise Skip(f"jax computed {out[0].dtype}, not float32")
        result = {"output": {name: np.asarray(o) for name, o in zip(wanted, out)},
                  "impl": f"jax {jax.__version__} {device.platform}",
                  "method": f"jit(vjp(lax.conv_general_dilated)) -> {'+'.join(wanted)}; XLA_FLAGS="
                            f"{os.environ.get('XLA_FLAGS', '')}"}
        result.update(time_callable(lambda: jax.block_until_ready(gradients(xs, ws, gs)), repetitions))
    finally:
        os.sched_setaffinity(0, cpus)
    return result


# ---- CNNKit -----------------------------------------------------------------------------------------------------

def cnnkit_binary(explicit):
    if explicit:
        return explicit
    print("building cnnkit (swift build -c release --product cnnkit) ...", file=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--product", "cnnkit"], cwd=ROOT, check=True,
                   stdout=sys.stderr)
    path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "cnnkit")


def run_cnnkit(args, backend, algorithm=None):
    """`cnnkit bench --json` on the selected cases (with `--algorithm` when given); returns its JSON and the
    OpenBLAS kernel line it printed."""
    binary = cnnkit_binary(args.cnnkit)
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "cnnkit.json")
        command = [binary, "bench", "--suite", args.suite, "--threads", str(args.threads), "--repetitions",
                   str(args.repetitions), "--max-seconds", str(args.max_seconds), "--json", out]
        for name in backend:
            command += ["--backend", name]
        if args.filter:
            command += ["--filter", args.filter]
        if algorithm:
            command += ["--algorithm", algorithm]
        print("running " + " ".join(command), file=sys.stderr)
        done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)  # environment scrubbed
        sys.stderr.write(done.stdout)
        with open(out) as f:
            report = json.load(f)
    blas = next((line.strip() for line in done.stdout.splitlines() if line.startswith("OpenBLAS")), None)
    return report, blas


def avx512_peak(machine, threads):
    """2-thread (or `threads`) AVX-512 FMA GFLOP/s from cnnkit's machine record, as cnnkit scales its AVX2 one."""
    one, many = (machine or {}).get("fma_avx512_gflops_1"), (machine or {}).get("fma_avx512_gflops_n")
    if not one or not many:
        return None
    return one if threads <= 1 else min(many, one * threads)


# ---- one case ---------------------------------------------------------------------------------------------------

def compare_case(case, peers, args, context):
    """Oracle, then each peer: timing, output check. Returns the row (without CNNKit's columns)."""
    x, w = case_tensors(case)
    oracle, oracle_name = None, None
    dy = output_gradient(case) if backward_gradients(case) else None
    if dy is not None:
        oracle, oracle_name = conv_backward_reference(case, x, w, dy), "numpy float64 adjoint"
    elif case["op"] == "Conv":
        oracle, oracle_name = conv_reference(case, x, w), "numpy float64"
    results = {}
    for peer in peers:
        results[peer] = run_peer(peer, case, x, w, args, context, dy)
    if oracle is None:  # pool / resample: onnxruntime is the oracle (its untimed run if it is not a peer)
        ort = results.get("onnxruntime") or {}
        if "output" not in ort:
            ort = run_onnxruntime(case, x, w, args.threads, args.repetitions, timed=False)
        oracle, oracle_name = ort["output"].astype("float64"), "onnxruntime"
    for peer, result in results.items():
        check_output(peer, result, oracle, oracle_name, case)
    return {"oracle": oracle_name, "peers": results}


def run_peer(peer, case, x, w, args, context, dy=None):
    try:
        if peer == "jax":
            if context.get("jax_skip"):
                raise Skip(context["jax_skip"])
            return run_jax(case, x, w, dy, args.threads, args.repetitions)
        if dy is not None:
            raise Skip("a backward case (this peer times forward inference only)")
        if peer == "onnxruntime":
            return run_onnxruntime(case, x, w, args.threads, args.repetitions)
        if peer == "onednn":
            if context.get("dnnl_skip"):
                raise Skip(context["dnnl_skip"])
            return run_onednn(case, x, w, args.threads, args.repetitions, context["dnnl_timer"], context["folder"])
        if peer == "opencv":
            if context.get("opencv_skip"):
                raise Skip(context["opencv_skip"])
            return run_opencv(case, x, w, args.threads, args.repetitions)
    except Skip as why:
        return {"status": "skipped", "reason": str(why)}
    except Exception as error:  # an op or attribute a peer does not take
        return {"status": "error", "reason": f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:160]}"}
    raise ValueError(peer)


def check_output(peer, result, oracle, oracle_name, case):
    """Sets status ok / differs / oracle and the normalised max error; drops the arrays."""
    output = result.pop("output", None)
    variant_outputs = result.pop("variant_outputs", {})
    if output is None:
        return
    tolerance = TOLERANCE.get(case["family"], 1e-5)
    result["max_rel_error"] = normalised_max_error(output, oracle)
    if peer == "onnxruntime" and oracle_name == "onnxruntime":
        result["status"] = "oracle"
    else:
        result["status"] = "ok" if result["max_rel_error"] <= tolerance else "differs"
    for variant, array in variant_outputs.items():  # oneDNN: the variant not chosen is checked too, for the record
        for record in result.get("variants", []):
            if record["variant"] == variant:
                record["max_rel_error"] = normalised_max_error(array, oracle)


# ---- table ------------------------------------------------------------------------------------------------------

def rate(case, ms):
    if not ms:
        return None
    seconds = ms * 1e-3
    if case["metric"] == "flops" and case.get("flops"):
        return case["flops"] / seconds * 1e-9
    if case.get("bytes"):
        return case["bytes"] / seconds * 1e-9
    return None


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def usable(result):
    """A peer time that counts: it ran and computed the case's function."""
    return result.get("status") in ("ok", "oracle") and result.get("median_ms")


def finish_row(case, row, mine, peak512):
    cnnkit_ms = mine["median_ms"] if mine else None
    row.update({"case": case["name"], "family": case["family"], "metric": case["metric"],
                "cnnkit_algorithm": mine.get("algorithm") if mine else None,
                "cnnkit_threads": mine.get("threads") if mine else None, "cnnkit_median_ms": cnnkit_ms,
                "cnnkit_rate": rate(case, cnnkit_ms), "cnnkit_avx512_peak_fraction": None})
    if cnnkit_ms and case["metric"] == "flops" and peak512:
        row["cnnkit_avx512_peak_fraction"] = row["cnnkit_rate"] / peak512
    timed = {peer: r["median_ms"] for peer, r in row["peers"].items() if usable(r)}
    row["best_peer"] = min(timed, key=timed.get) if timed else None
    row["best_peer_ms"] = timed[row["best_peer"]] if timed else None
    row["speed_ratio"] = row["best_peer_ms"] / cnnkit_ms if timed and cnnkit_ms else None
    for peer, r in row["peers"].items():
        r["speed_ratio"] = r["median_ms"] / cnnkit_ms if usable(r) and cnnkit_ms else None
    return row


def fmt(value, pattern):
    return "-" if value is None else pattern % value


def peer_cell(result):
    status = result.get("status")
    if status in ("ok", "oracle"):
        return "%.3f" % result["median_ms"]
    return {"differs": "differs", "error": "error"}.get(status, "-")


def main_table(rows, peers, forced=()):
    """`forced`: the --also-algorithm names; each adds CNNKit's time with it and that time / CNNKit's (auto)."""
    header = ["case", "CNNKit ms", "rate", "%AVX512"] + \
             [h for name in forced for h in (f"CNNKit {name} ms", f"{name}/CNNKit")] + \
             [f"{PEER_LABELS[p]} ms" for p in peers] + ["best peer", "best/CNNKit"]
    lines = []
    for r in rows:
        unit = "GFLOP/s" if r["metric"] == "flops" else "GB/s"
        extra = []
        for name in forced:
            ms = r.get("cnnkit_forced_ms", {}).get(name)
            extra += [fmt(ms, "%.3f"), fmt(ms and r["cnnkit_median_ms"] and ms / r["cnnkit_median_ms"], "%.2f")]
        lines.append([r["case"], fmt(r["cnnkit_median_ms"], "%.3f"), fmt(r["cnnkit_rate"], "%.1f " + unit),
                      fmt(r["cnnkit_avx512_peak_fraction"] and 100 * r["cnnkit_avx512_peak_fraction"], "%.0f%%")]
                     + extra + [peer_cell(r["peers"][p]) for p in peers]
                     + [PEER_LABELS.get(r["best_peer"], "-"), fmt(r["speed_ratio"], "%.2f")])
    return header, lines


def detail_table(rows, peers):
    """What each peer ran per case (implementation, method), its check, or why it skipped."""
    header = ["case", "peer", "what ran", "max rel err", "status"]
    lines = []
    for r in rows:
        for p in peers:
            result = r["peers"][p]
            what = result.get("impl", "")
            if result.get("method"):
                what = result["method"]
            if result.get("status") in ("skipped", "error"):
                what = result["reason"]
            lines.append([r["case"], PEER_LABELS[p], what, fmt(result.get("max_rel_error"), "%.1e"),
                          result.get("status", "-")])
    return header, lines


def print_table(header, lines, markdown):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("| --- |" + " ---: |" * (len(header) - 1))
        for line in lines:
            print("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |")
        return
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    print("  ".join(h.ljust(widths[i]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(header)))
    for line in lines:
        print("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(line)))


def left_aligned_detail(header, lines, markdown):
    """The detail table reads better left-aligned (long text column)."""
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("| --- | --- | --- | ---: | --- |")
        for line in lines:
            print("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |")
        return
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    for line in [header] + lines:
        print("  ".join(c.ljust(widths[i]) for i, c in enumerate(line)).rstrip())


def summary(rows, peers, backend):
    """Geometric means of best-peer/CNNKit per family, and of each peer/CNNKit over the cases it covers."""
    out = []
    for family in ("conv", "pool", "resample"):
        family_rows = [r for r in rows if r["family"] == family]
        best = [r["speed_ratio"] for r in family_rows if r["speed_ratio"]]
        if not best:
            continue
        parts = [f"best peer {geomean(best):.2f} ({len(best)} cases)"]
        for p in peers:
            values = [r["peers"][p]["speed_ratio"] for r in family_rows if r["peers"][p].get("speed_ratio")]
            if values:
                parts.append(f"{PEER_LABELS[p]} {geomean(values):.2f} ({len(values)})")
        out.append(f"geometric mean peer ms / CNNKit ms, {family}: " + ", ".join(parts))
    best = [r["speed_ratio"] for r in rows if r["speed_ratio"]]
    if best:
        out.append(f"geometric mean best peer / CNNKit, all: {geomean(best):.2f} ({len(best)} cases); "
                   f"> 1 = CNNKit ({backend}) faster")
    return out


def disturbance_note(report, load_start, load_end, threads):
    """Other work on the machine moves every median: say how busy it was, for CNNKit's and the peers' phases."""
    shares = sorted(r["cpu_per_wall"] / max(1, r.get("threads") or 1) for r in report["records"]
                    if r.get("cpu_per_wall"))
    share = f", CPU per thread per wall second median {statistics.median(shares):.2f}" if shares else ""
    return (f"load average (1 min): CNNKit phase {report.get('load_average_start')} -> "
            f"{report.get('load_average_end')}{share}; peers phase {load_start:.2f} -> {load_end:.2f} "
            f"({threads} threads; a load well above {threads} means other work shared the cores)")


# ---- main -------------------------------------------------------------------------------------------------------

def peer_context(args, folder):
    """Versions of the peers and the oneDNN timer, built once; a missing peer is skipped on every case."""
    context = {"folder": folder, "versions": {}}
    import onnxruntime  # always: the oracle of pool and resample cases
    context["versions"]["onnxruntime"] = onnxruntime.__version__
    if "onednn" in args.peers:
        try:
            context["dnnl_timer"], context["versions"]["onednn"] = build_dnnl_timer(args.cxx, folder)
        except Skip as why:
            context["dnnl_skip"] = str(why)
    if "opencv" in args.peers:
        try:
            import cv2
            context["versions"]["opencv"] = cv2.__version__
        except ImportError:
            context["opencv_skip"] = "pip install opencv-python-headless"
    if "jax" in args.peers:
        jax_environment(args.threads)  # before the import: XLA reads its flags once
        try:
            import jax
            context["versions"]["jax"] = jax.__version__
        except ImportError:
            context["jax_skip"] = "pip install jax"
    return context


def load_cnnkit(args):
    if args.cnnkit_json:
        with open(args.cnnkit_json) as f:
            report = json.load(f)
        if report.get("threads") not in (None, args.threads):
            print(f"note: the CNNKit JSON used {report.get('threads')} threads, the peers use {args.threads}",
                  file=sys.stderr)
        return report, None
    return run_cnnkit(args, [args.backend] if args.backend else ["all"])


def pick_backend(report, requested):
    names = sorted({r["backend"] for r in report["records"]})
    return requested or ("c" if "c" in names else next((n for n in names if n != "reference"), "reference"))


def main(argv=None):
    args = parse_arguments(argv)
    scrubbed = scrub_environment()  # before numpy, onnxruntime, cv2 load (OpenBLAS reads it at load time)
    try:
        import numpy  # noqa: F401
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as error:
        sys.exit(f"compare_peers.py needs numpy, onnx and onnxruntime: pip install onnx onnxruntime ({error})")
    with open(args.suite) as f:
        suite = json.load(f)
    cases = [c for c in suite["cases"]
             if args.filter is None or re.search(args.filter, f"{c['family']}/{c['name']}")]
    if not cases:
        sys.exit(f"no case matches --filter {args.filter}")

    # CNNKit first (its run also reports the machine), then the peers case by case, in the same run.
    report, blas = load_cnnkit(args)
    backend = pick_backend(report, args.backend)
    by_case = {r["case"]: r for r in report["records"] if r["backend"] == backend}
    peak512 = avx512_peak(report.get("machine"), args.threads)
    forced = {}  # algorithm -> case -> median ms, CNNKit with that algorithm forced (same backend)
    for name in args.also_algorithm:
        if args.cnnkit_json:
            sys.exit("--also-algorithm runs cnnkit itself: leave out --cnnkit-json")
        extra, _ = run_cnnkit(args, [backend], algorithm=name)
        forced[name] = {r["case"]: r["median_ms"] for r in extra["records"] if r["backend"] == backend}

    with tempfile.TemporaryDirectory(prefix="compare_peers.") as folder:
        context = peer_context(args, folder)
        versions = ", ".join(f"{PEER_LABELS[k]} {v}" for k, v in context["versions"].items() if k in args.peers)
        print(f"peers: {versions}; {args.threads} threads; CNNKit backend {backend}"
              + (f"; CNNKit {blas}" if blas else ""), file=sys.stderr)
        rows = []
        load_start = os.getloadavg()[0]
        for case in cases:
            print(f"  {case['family']}/{case['name']} ...", file=sys.stderr)
            row = compare_case(case, args.peers, args, context)
            row = finish_row(case, row, by_case.get(case["name"]), peak512)
            row["cnnkit_forced_ms"] = {name: times.get(case["name"]) for name, times in forced.items()}
            rows.append(row)

    load_end = os.getloadavg()[0]
    print_table(*main_table(rows, args.peers, args.also_algorithm), args.markdown)
    print()
    print(disturbance_note(report, load_start, load_end, args.threads))
    for line in summary(rows, args.peers, backend):
        print(line)
    if peak512 and any(r["cnnkit_avx512_peak_fraction"] for r in rows):
        print(f"%AVX512 = CNNKit GFLOP/s / {peak512:.1f} GFLOP/s, the {args.threads}-thread AVX-512 FMA peak "
              f"that cnnkit bench measured (fma_avx512_gflops_*); GFLOP/s count the direct algorithm's MACs, so "
              f"Winograd (fewer multiplies) can exceed 100%")
    print()
    left_aligned_detail(*detail_table(rows, args.peers), args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"schema": "cnnkit-compare-peers/1", "threads": args.threads, "backend": backend,
                       "peers": args.peers, "versions": context["versions"], "cnnkit_blas": blas,
                       "environment_removed": scrubbed, "avx512_peak_gflops": peak512, "tolerance": TOLERANCE,
                       "machine": report.get("machine"), "rows": rows, "cnnkit": report}, f, indent=1)


if __name__ == "__main__":
    main()
