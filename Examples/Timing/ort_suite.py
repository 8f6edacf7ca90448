"""Times the benchmark suite's cases with onnxruntime (CPU, intra-op threads as given), for a same-run comparison
with the Timing program. Usage: python3 ort_suite.py ../../../shared/bench/suite.json [threads] [filter]"""
import json, sys, time
import numpy as np
import onnx
from onnx import helper, TensorProto
import onnxruntime as ort

import subprocess

path = sys.argv[1] if len(sys.argv) > 1 else "../../../shared/bench/suite.json"
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
flt = sys.argv[3] if len(sys.argv) > 3 else ""
# With --compare, each case is timed alternately with onnxruntime and with the Timing program (3 rounds, best of
# each), so that both see the same machine load.
compare = "--compare" in sys.argv
suite = json.load(open(path))
print(f"onnxruntime {ort.__version__}, {threads} threads")


def cnnkit_seconds(name):
    out = subprocess.run([".build/release/Timing", path, name, "--threads", str(threads)], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        if line.split() and line.split()[0] == name:
            return float(line.split()[1]) / 1e3, " ".join(line.split()[5:])
    return float("nan"), ""


for c in suite["cases"]:
    if flt not in c["name"]:
        continue
    attrs = {k: v for k, v in c["attributes"].items()}
    inits, inputs = [], ["X"]
    feeds = {"X": np.random.rand(*c["input_shape"]).astype(np.float32) - 0.5}
    if c["op"] == "Conv":
        inits.append(helper.make_tensor("W", TensorProto.FLOAT, c["weight_shape"],
                                        (np.random.rand(*c["weight_shape"]).astype(np.float32) - 0.5).ravel()))
        inputs.append("W")
    if c["op"] == "Resize":
        oi = c["onnx_inputs"]
        inits.append(helper.make_tensor("roi", TensorProto.FLOAT, [len(oi["roi"])], oi["roi"]))
        inits.append(helper.make_tensor("scales", TensorProto.FLOAT, [len(oi.get("scales", []))], oi.get("scales", [])))
        inputs += ["roi", "scales"]
        if oi.get("sizes"):
            inits.append(helper.make_tensor("sizes", TensorProto.INT64, [len(oi["sizes"])], oi["sizes"]))
            inputs.append("sizes")
    node = helper.make_node(c["op"], inputs, ["Y"], **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, c["input_shape"])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", c["opset"])])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    sess.run(None, feeds)
    best, mine, algo = float("inf"), float("inf"), ""
    for _ in range(3 if compare else 1):
        reps = 1
        for _ in range(7):
            t = time.perf_counter()
            for _ in range(reps):
                sess.run(None, feeds)
            dt = time.perf_counter() - t
            best = min(best, dt / reps)
            if dt < 0.02:
                reps *= 2
        if compare:
            s, algo = cnnkit_seconds(c["name"])
            mine = min(mine, s)
    work = c["flops"] if c["metric"] == "flops" else c["bytes"]
    unit = "GFLOP/s" if c["metric"] == "flops" else "GB/s"
    line = f"{c['name']:32s} ort {best * 1e3:9.3f} ms {work / best / 1e9:7.1f} {unit}"
    if compare:
        line += f" | cnnkit {mine * 1e3:9.3f} ms {work / mine / 1e9:7.1f} {unit} | {best / mine * 100:5.0f}% of ort  {algo}"
    print(line, flush=True)
