#!/usr/bin/env python3
"""Times the CNNKit benchmark suite in onnxruntime and in CNNKit, in one run, and prints CNNKit / onnxruntime.

Each suite case becomes a one-node ONNX model (the suite's op type, opset and attributes; weights and Resize's
scales/sizes as initializers). onnxruntime runs it on the CPU execution provider with the same thread count as
CNNKit, on preallocated input and output buffers (IOBinding), warmed up, then timed at least --repetitions times
(short cases repeat for about 0.25 s). CNNKit is timed by `cnnkit bench --json` in the same run, or read from a
JSON file that `cnnkit bench --json` wrote earlier (--cnnkit-json).

The ratio printed is speed: onnxruntime median / CNNKit median. 1.00 = as fast, above 1 = CNNKit faster.

Needs `pip install onnx onnxruntime numpy` (not dependencies of CNNKit or its tests). Examples, from the repo root:

    python3 Benchmarks/compare_onnxruntime.py                         # builds cnnkit (release), backend c if present
    python3 Benchmarks/compare_onnxruntime.py --filter '^conv/resnet' --threads 1
    python3 Benchmarks/compare_onnxruntime.py --cnnkit-json out.json  # reuse a `cnnkit bench --json` file
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_SUITE = os.path.join(ROOT, "Sources", "CNNKitBench", "Resources", "suite.json")


def parse_arguments():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", default=DEFAULT_SUITE, help="suite JSON (default: the bundled suite)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both (default: cores)")
    p.add_argument("--filter", default=None, help="regular expression on family/name, as in cnnkit bench")
    p.add_argument("--repetitions", type=int, default=10, help="timed runs per case, at least (default 10)")
    p.add_argument("--max-seconds", type=float, default=10, help="passed to cnnkit bench (default 10)")
    p.add_argument("--backend", default=None,
                   help="CNNKit backend to compare (default: c if registered, else the first non-reference "
                        "backend in the JSON, else reference)")
    p.add_argument("--cnnkit", default=None,
                   help="path of a cnnkit binary (default: build it with `swift build -c release` in the repo)")
    p.add_argument("--cnnkit-json", default=None, help="read this `cnnkit bench --json` file instead of running cnnkit")
    p.add_argument("--json", default=None, help="also write the comparison to this JSON file")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    return p.parse_args()


# ---- onnxruntime ------------------------------------------------------------------------------------------------

def build_model(case):
    """A one-node ONNX model for a suite case: input X, output Y, constants as initializers."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0x5EED)
    inputs = ["X"]
    initializers = []
    attributes = dict(case["attributes"])
    op = case["op"]
    if op == "Conv":
        w = rng.uniform(-1, 1, size=case["weight_shape"]).astype(np.float32)
        initializers.append(numpy_helper.from_array(w, "W"))
        inputs.append("W")
    elif op == "Resize":
        extra = case.get("onnx_inputs") or {}
        roi, scales, sizes = extra.get("roi") or [], extra.get("scales") or [], extra.get("sizes") or []
        names = ["", "", ""]
        if roi:
            initializers.append(numpy_helper.from_array(np.array(roi, dtype=np.float32), "roi"))
            names[0] = "roi"
        if scales:
            initializers.append(numpy_helper.from_array(np.array(scales, dtype=np.float32), "scales"))
            names[1] = "scales"
        if sizes:
            initializers.append(numpy_helper.from_array(np.array(sizes, dtype=np.int64), "sizes"))
            names[2] = "sizes"
        while names and names[-1] == "":
            names.pop()
        inputs += names
    node = helper.make_node(op, inputs, ["Y"], **attributes)
    graph = helper.make_graph(
        [node], case["name"],
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, case["input_shape"])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, case["output_shape"])],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", case.get("opset", 18))])
    model.ir_version = min(onnx.IR_VERSION, 10)
    onnx.checker.check_model(model)
    return model


def time_onnxruntime(case, threads, repetitions, minimum_seconds=0.25, max_runs=1000):
    """Median and minimum ms of one run of the case in onnxruntime (CPU), on preallocated buffers."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(build_model(case).SerializeToString(), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).uniform(-1, 1, size=case["input_shape"]).astype(np.float32)
    y = ort.OrtValue.ortvalue_from_numpy(np.zeros(case["output_shape"], dtype=np.float32))
    binding = session.io_binding()
    binding.bind_cpu_input("X", x)
    binding.bind_ortvalue_output("Y", y)

    def once():
        start = time.perf_counter()
        session.run_with_iobinding(binding)
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
    return statistics.median(samples) * 1e3, min(samples) * 1e3, count


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


def run_cnnkit(args, backend):
    binary = cnnkit_binary(args.cnnkit)
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "cnnkit.json")
        command = [binary, "bench", "--suite", args.suite, "--threads", str(args.threads), "--repetitions",
                   str(args.repetitions), "--max-seconds", str(args.max_seconds), "--json", out]
        for name in backend:
            command += ["--backend", name]
        if args.filter:
            command += ["--filter", args.filter]
        print("running " + " ".join(command), file=sys.stderr)
        subprocess.run(command, check=True, stdout=sys.stderr)
        with open(out) as f:
            return json.load(f)


# ---- main -------------------------------------------------------------------------------------------------------

def main():
    args = parse_arguments()
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError as error:
        sys.exit(f"compare_onnxruntime.py needs onnx and onnxruntime: pip install onnx onnxruntime ({error})")
    with open(args.suite) as f:
        suite = json.load(f)
    cases = [c for c in suite["cases"]
             if args.filter is None or re.search(args.filter, f"{c['family']}/{c['name']}")]
    if not cases:
        sys.exit(f"no case matches --filter {args.filter}")

    # CNNKit first (its run also reports the machine), then onnxruntime, in the same process run.
    if args.cnnkit_json:
        with open(args.cnnkit_json) as f:
            report = json.load(f)
    else:
        report = run_cnnkit(args, [args.backend] if args.backend else ["all"])
    records = report["records"]
    names = sorted({r["backend"] for r in records})
    backend = args.backend or ("c" if "c" in names else next((n for n in names if n != "reference"), "reference"))
    by_case = {r["case"]: r for r in records if r["backend"] == backend}
    if report.get("threads") not in (None, args.threads) and args.cnnkit_json:
        print(f"note: the CNNKit JSON used {report.get('threads')} threads, onnxruntime uses {args.threads}",
              file=sys.stderr)

    rows = []
    print(f"onnxruntime {onnxruntime.__version__}, {args.threads} threads; CNNKit backend {backend}", file=sys.stderr)
    for case in cases:
        try:
            ort_median, ort_min, ort_runs = time_onnxruntime(case, args.threads, args.repetitions)
            error = None
        except Exception as e:  # an op or attribute onnxruntime does not take
            ort_median = ort_min = ort_runs = None
            error = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
        mine = by_case.get(case["name"])
        ratio = ort_median / mine["median_ms"] if mine and ort_median else None
        rows.append({
            "case": case["name"], "family": case["family"], "metric": case["metric"],
            "cnnkit_backend": backend, "cnnkit_threads": mine["threads"] if mine else None,
            "cnnkit_median_ms": mine["median_ms"] if mine else None,
            "onnxruntime_median_ms": ort_median, "onnxruntime_min_ms": ort_min, "onnxruntime_runs": ort_runs,
            "onnxruntime_rate": rate(case, ort_median), "cnnkit_rate": rate(case, mine["median_ms"]) if mine else None,
            "speed_ratio": ratio, "onnxruntime_error": error,
        })

    print_table(rows, args.markdown)
    ratios = [r["speed_ratio"] for r in rows if r["speed_ratio"]]
    for family in ("conv", "pool", "resample"):
        values = [r["speed_ratio"] for r in rows if r["family"] == family and r["speed_ratio"]]
        if values:
            print(f"geometric mean speed ratio, {family}: {geomean(values):.2f} ({len(values)} cases)")
    if ratios:
        print(f"geometric mean speed ratio, all: {geomean(ratios):.2f} ({len(ratios)} cases); "
              f"> 1 = CNNKit ({backend}) faster than onnxruntime {onnxruntime.__version__}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"onnxruntime_version": onnxruntime.__version__, "threads": args.threads, "backend": backend,
                       "machine": report.get("machine"), "rows": rows, "cnnkit": report}, f, indent=1)


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


def print_table(rows, markdown):
    header = ["case", "CNNKit ms", "ORT ms", "CNNKit rate", "ORT rate", "speed CNNKit/ORT"]

    def unit(r):
        return "GFLOP/s" if r["metric"] == "flops" else "GB/s"

    def fmt(value, pattern):
        return "-" if value is None else pattern % value

    lines = []
    for r in rows:
        lines.append([
            r["case"], fmt(r["cnnkit_median_ms"], "%.3f"), fmt(r["onnxruntime_median_ms"], "%.3f"),
            fmt(r["cnnkit_rate"], "%.2f " + unit(r)), fmt(r["onnxruntime_rate"], "%.2f " + unit(r)),
            fmt(r["speed_ratio"], "%.2f") if not r["onnxruntime_error"] else "ORT: " + r["onnxruntime_error"],
        ])
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("| --- |" + " ---: |" * (len(header) - 1))
        for line in lines:
            print("| " + " | ".join(line) + " |")
        return
    widths = [max(len(header[i]), *(len(l[i]) for l in lines)) for i in range(len(header))]
    print("  ".join(h.ljust(widths[i]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(header)))
    for line in lines:
        print("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(line)))


if __name__ == "__main__":
    main()
