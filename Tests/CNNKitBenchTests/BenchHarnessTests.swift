import CNNKit
import CNNKitBench
import CPeakProbe
import Foundation
import Testing

@Suite struct BenchHarnessTests {
    @Test func bundledSuiteMapsOntoCNNKitProblems() throws {
        let suite = try BenchSuite.bundled()
        #expect(suite.cases.count >= 20)
        #expect(Set(suite.cases.map(\.name)).count == suite.cases.count, "case names are unique")
        for c in suite.cases {
            let problem = try c.validatedProblem()
            #expect(problem.outputShape == c.outputShape, "\(c.name): \(problem.description)")
            if c.family == "conv" {
                #expect(problem.multiplyAccumulates == c.macs, "\(c.name)")
                #expect(c.flops == c.macs.map { 2 * $0 }, "\(c.name)")
            }
            #expect(c.metric == "flops" || c.metric == "bytes")
            #expect(c.ratesFlops ? c.flops != nil : c.bytes != nil, "\(c.name) has a count for its metric")
        }
    }

    @Test func filterMatchesFamilySlashName() throws {
        let suite = try BenchSuite.bundled()
        let pools = try BenchRunner.select(suite, filter: "^pool/")
        #expect(!pools.isEmpty && pools.allSatisfy { $0.family == "pool" })
        #expect(try BenchRunner.select(suite, filter: "resnet50_3x3_64_56$").map(\.name) == ["resnet50_3x3_64_56"])
        #expect(throws: BenchError.self) { try BenchRunner.select(suite, filter: "(") }
    }

    @Test func reducedProbeKeepsGeometryAndScalesWork() throws {
        let suite = try BenchSuite.bundled()
        let dw = try #require(suite.cases.first { $0.name == "mobilenetv2_dw3x3_144_56" })
        let probe = try Workload.make(dw, backend: "reference", reduction: .init(channelLimit: 4))
        #expect(probe.workScale == 36)  // 144 groups -> 4
        #expect(probe.problem.contains("ic4") && probe.problem.contains("g4"))
        let resize = try #require(suite.cases.first { $0.name == "bilinear_down_4k_to_1080p" })
        let resizeProbe = try Workload.make(resize, backend: "reference", reduction: .init(channelLimit: 1, spatialDivisor: 8))
        #expect(resizeProbe.workScale == 24)
        #expect(resizeProbe.problem.contains("1x1x270x3840_to_1x1x135x1920"))
        // Every case reduces to a plannable probe of about the target work.
        for c in suite.cases {
            let reduction = Workload.probeReduction(c, targetWork: 1e5)
            let w = try Workload.make(c, backend: "reference", reduction: reduction)
            #expect(w.workScale >= 1, "\(c.name)")
            #expect(w.tensorBytes < 64 << 20, "\(c.name): probe tensors \(w.tensorBytes) bytes")
        }
    }

    @Test func backwardCasesTimeTheGradients() throws {
        let suite = try BenchSuite.bundled()
        let forward = try #require(suite.cases.first { $0.name == "resnet50_3x3_64_56" })
        let both = try #require(suite.cases.first { $0.name == "resnet50_3x3_64_56_backward" })
        let data = try #require(suite.cases.first { $0.name == "resnet50_3x3_64_56_backward_data" })
        let weights = try #require(suite.cases.first { $0.name == "resnet50_3x3_64_56_backward_weights" })
        #expect(try forward.backwardGradients() == nil)
        #expect(try both.backwardGradients() == [.input, .weight])
        #expect(try data.backwardGradients() == .input && weights.backwardGradients() == .weight)
        #expect(try both.validatedProblem().multiplyAccumulates == 2 * forward.macs!)
        #expect(try data.validatedProblem().multiplyAccumulates == forward.macs!)

        // The C backend's backward plan, timed as one call: dX and dW, weights given on every run.
        let c = try Workload.make(both, backend: "c", threads: 2)
        #expect(c.algorithm.hasPrefix("dX ") && c.algorithm.contains(", dW "), "\(c.algorithm)")
        #expect(c.problem.hasSuffix("backward dX+dW") && c.workScale == 1)
        c.run()
        let onlyWeights = try Workload.make(weights, backend: "c", threads: 2)
        #expect(onlyWeights.problem.hasSuffix("backward dW"))
        onlyWeights.run()
        // A reduced reference probe scales by the MAC ratio (64 -> 4 output channels).
        let probe = try Workload.make(both, backend: "reference", reduction: .init(channelLimit: 4))
        #expect(probe.workScale == 16)
        probe.run()

        // A pass the harness does not know, and a backward pass outside conv, are errors naming the case.
        let bad = try BenchSuite(json: Data(tinySuite.replacingOccurrences(of: "\"metric\": \"flops\"}", with: "\"metric\": \"flops\", \"pass\": \"sideways\"}").utf8))
        let sideways = try #require(bad.cases.first { $0.family == "conv" })
        #expect(throws: BenchError.self) { try sideways.validatedProblem() }
        #expect(throws: BenchError.self) { try Workload.make(sideways, backend: "reference") }
        let pool = try BenchSuite(json: Data(tinySuite.replacingOccurrences(of: "\"metric\": \"bytes\"}", with: "\"metric\": \"bytes\", \"pass\": \"backward\"}").utf8))
        #expect(throws: BenchError.self) { try #require(pool.cases.first { $0.family == "pool" }).backwardGradients() }

        // The runner times a backward case like any other and rates it by its MAC count.
        let tiny = try BenchSuite(json: Data(tinySuite.replacingOccurrences(of: "\"macs\": 1944, \"flops\": 3888", with: "\"macs\": 3888, \"flops\": 7776, \"pass\": \"backward\"").utf8))
        let options = BenchOptions(backends: ["reference", "c"], threads: 2, filter: "tiny_conv", repetitions: 3, maxSeconds: 5,
                                   minimumTimedSeconds: 0.01)
        let report = try BenchRunner(suite: tiny, options: options, peak: try samplePeak()).run { _ in }
        #expect(report.records.count == 2 && report.skipped.isEmpty, "\(report.skipped)")
        for record in report.records {
            #expect(record.problem.hasSuffix("backward dX+dW") && record.gflops != nil)
        }
    }

    @Test func unknownBackendAndUnsupportedAlgorithmAreErrors() throws {
        let suite = try BenchSuite.bundled()
        let conv = try #require(suite.cases.first { $0.family == "conv" })
        #expect(throws: BenchError.self) { try Workload.make(conv, backend: "no-such-backend") }
        // The reference backend has one algorithm and ignores the request; another non-configurable backend refuses.
        let registry = BackendRegistry([RenamedReference()])
        #expect(throws: BenchError.self) {
            try Workload.make(conv, backend: "renamed", algorithm: "direct", reduction: .init(channelLimit: 1), registry: registry)
        }
    }

    @Test func runnerProducesCompleteRecordsAndSkips() throws {
        let suite = try BenchSuite(json: Data(tinySuite.utf8))
        let options = BenchOptions(backends: ["reference"], threads: 2, repetitions: 3, maxSeconds: 5, minimumTimedSeconds: 0.01)
        var events = 0
        let report = try BenchRunner(suite: suite, options: options, peak: try samplePeak()).run { _ in events += 1 }
        #expect(report.records.count == 3)
        #expect(events >= 3)
        for record in report.records {
            #expect(record.runs >= 3)
            #expect(record.minMs <= record.medianMs)
            #expect(record.threads == 1, "the reference backend is single-threaded")
            #expect(record.peakFraction != nil && record.peakFraction! > 0)
            #expect(record.speedupVsReference == 1)
            #expect((record.cpuPerWall ?? 0) > 0)
        }
        let conv = try #require(report.records.first { $0.caseName == "tiny_conv" })
        #expect(conv.gflops != nil && conv.peakBasis?.hasPrefix("fma") == true)
        let pool = try #require(report.records.first { $0.caseName == "tiny_pool" })
        #expect(pool.gbs != nil && pool.peakBasis?.contains("L3 copy") == true)

        // Every field of the issue's record is present in the JSON, null or not.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as! [String: Any]
        let first = (json["records"] as! [[String: Any]])[0]
        for key in ["case", "backend", "algorithm", "threads", "median_ms", "min_ms", "gflops", "gbs", "peak_fraction",
                    "workspace_bytes", "peak_rss_bytes"] {
            #expect(first.keys.contains(key), "record has \(key)")
        }

        // A budget too small for anything: the reference skips every case, with a reason.
        var tight = options
        tight.maxSeconds = 1e-9
        let skipped = try BenchRunner(suite: suite, options: tight, peak: try samplePeak()).run { _ in }
        #expect(skipped.records.isEmpty)
        #expect(skipped.skipped.count == 3 && skipped.skipped.allSatisfy { !$0.reason.isEmpty })
    }

    @Test func configurableBackendGetsThreadsAndAlgorithmAndReportsWorkspace() throws {
        let registry = BackendRegistry([ReferenceBackend(), Tunable()])
        let suite = try BenchSuite(json: Data(tinySuite.utf8))
        let conv = try #require(suite.cases.first { $0.family == "conv" })
        let forced = try Workload.make(conv, backend: "tunable", threads: 3, algorithm: "slow", registry: registry)
        #expect(forced.algorithm == "slow@3")
        #expect(forced.algorithmForced)
        #expect(forced.workspaceBytes == 1234)
        let heuristic = try Workload.make(conv, backend: "tunable", threads: 2, registry: registry)
        #expect(heuristic.algorithm == "fast@2")
        #expect(throws: BenchError.self) { try Workload.make(conv, backend: "tunable", algorithm: "nope", registry: registry) }

        var options = BenchOptions(backends: ["reference", "tunable"], algorithm: "slow", threads: 2, repetitions: 2,
                                   maxSeconds: 5, minimumTimedSeconds: 0.001)
        let report = try BenchRunner(suite: suite, options: options, peak: try samplePeak(), registry: registry).run { _ in }
        let tunableConv = try #require(report.records.first { $0.backend == "tunable" && $0.caseName == "tiny_conv" })
        #expect(tunableConv.algorithm == "slow@2" && tunableConv.threads == 2 && tunableConv.workspaceBytes == 1234)
        #expect(tunableConv.speedupVsReference != nil && !tunableConv.referenceEstimated)
        #expect(report.notes.allSatisfy { !$0.contains("no selected backend takes") })
        options.algorithm = "winograd"
        let none = try BenchRunner(suite: suite, options: options, peak: try samplePeak(), registry: registry).run { _ in }
        #expect(none.notes.contains { $0.contains("no selected backend takes") })
        #expect(none.skipped.contains { $0.backend == "tunable" && $0.caseName == "tiny_conv" })
        #expect(none.records.contains { $0.backend == "reference" && $0.caseName == "tiny_conv" })
    }

    @Test func peakUsesL3OrDramByWorkingSet() throws {
        let peak = try samplePeak()
        #expect(peak.fmaGflops(threads: 1) == 100)
        #expect(peak.fmaGflops(threads: 2) == 190)
        #expect(peak.copyGbs(bytes: 1 << 20, threads: 2) == 120)
        #expect(peak.copyGbs(bytes: 1 << 30, threads: 2) == 38)
        #expect(peak.copyGbs(bytes: 1 << 30, threads: 1) == 20)
    }

    @Test func probesMeasureSomething() {
        guard ck_probe_has_avx2_fma() != 0 else { return }
        #expect(ck_probe_fma_gflops(1, 0.002, 2) > 1)
        if ck_probe_has_avx512() != 0 { #expect(ck_probe_fma512_gflops(1, 0.002, 2) > 1) }
        let arena = ck_probe_arena_create(1 << 20)
        defer { ck_probe_arena_destroy(arena) }
        #expect(ck_probe_copy_gbs(arena, 2, 0, 1 << 20, 2, 2) > 0.1)
        #expect(ck_probe_copy_gbs(arena, 1, 1, 1 << 18, 1, 2) > 0.1)
        #expect(ck_probe_copy_gbs(nil, 1, 0, 0, 1, 1) == 0)
    }

    @Test func peakResidentSizeIsReadable() {
        #expect(ResourceUsage.peakResidentBytes() > 0)
        ResourceUsage.resetPeak()
        #expect(ResourceUsage.peakResidentBytes() >= ResourceUsage.currentResidentBytes() / 2)
    }
}

/// The reference backend under another name, without ConfigurableBackend: only the operators the suite uses,
/// the rest left to the protocol's "not implemented" defaults.
struct RenamedReference: Backend {
    let inner = ReferenceBackend()
    var name: String { "renamed" }
    func prepare(_ problem: ConvolutionProblem, constants: ConvolutionConstants) throws -> any PreparedWeightedOperator {
        try inner.prepare(problem, constants: constants)
    }
    func prepare(_ problem: PoolingProblem) throws -> any PreparedPooling { try inner.prepare(problem) }
    func prepare(_ problem: ResizeProblem) throws -> any PreparedUnaryOperator { try inner.prepare(problem) }
}

/// A configurable backend: the reference's loops, an algorithm list, a thread count, and a workspace figure.
struct Tunable: ConfigurableBackend {
    var threads = 1
    var forced: String? = nil
    let inner = RenamedReference()
    var name: String { "tunable" }
    var convolutionAlgorithms: [String] { ["fast", "slow"] }
    var instructionSets: [String] { [] }
    func configured(threads: Int?, convolutionAlgorithm: String?, isa: String?) throws -> any Backend {
        Tunable(threads: threads ?? self.threads, forced: convolutionAlgorithm)
    }
    func prepare(_ problem: ConvolutionProblem, constants: ConvolutionConstants) throws -> any PreparedWeightedOperator {
        Reported(inner: try inner.prepare(problem, constants: constants), algorithm: "\(forced ?? "fast")@\(threads)")
    }
    func prepare(_ problem: PoolingProblem) throws -> any PreparedPooling { try inner.prepare(problem) }
    func prepare(_ problem: ResizeProblem) throws -> any PreparedUnaryOperator { try inner.prepare(problem) }

    struct Reported: PreparedWeightedOperator {
        let inner: any PreparedWeightedOperator
        let algorithm: String
        var workspaceBytes: Int { 1234 }
        var holdsWeights: Bool { inner.holdsWeights }
        func run(input: Tensor, weight: Tensor?, bias: Tensor?, output: inout Tensor) throws {
            try inner.run(input: input, weight: weight, bias: bias, output: &output)
        }
    }
}

func samplePeak() throws -> MachinePeak {
    let json = """
        {"cpu_model": "test", "logical_cores": 2, "l3_bytes": 33554432, "threads_n": 2,
         "fma_gflops_1": 100, "fma_gflops_n": 190, "fma_avx512_gflops_1": 0, "fma_avx512_gflops_n": 0, "dram_copy_gbs_1": 20, "dram_copy_gbs_n": 38,
         "dram_stream_copy_gbs_n": 60, "l3_copy_gbs_1": 70, "l3_copy_gbs_n": 120,
         "dram_buffer_bytes": 268435456, "l3_buffer_bytes": 8388608, "load_average": 0, "measured_at": "now"}
        """
    return try JSONDecoder().decode(MachinePeak.self, from: Data(json.utf8))
}

let tinySuite = """
    {"schema_version": 1, "description": "tiny", "cases": [
     {"name": "tiny_conv", "family": "conv", "op": "Conv",
      "attributes": {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1], "dilations": [1, 1], "group": 1, "auto_pad": "NOTSET"},
      "input_shape": [1, 2, 6, 6], "weight_shape": [3, 2, 3, 3], "output_shape": [1, 3, 6, 6],
      "macs": 1944, "flops": 3888, "bytes": 936, "metric": "flops"},
     {"name": "tiny_pool", "family": "pool", "op": "MaxPool",
      "attributes": {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0], "ceil_mode": 0},
      "input_shape": [1, 2, 6, 6], "output_shape": [1, 2, 3, 3], "flops": 72, "bytes": 360, "metric": "bytes"},
     {"name": "tiny_resize", "family": "resample", "op": "Resize",
      "attributes": {"mode": "linear", "coordinate_transformation_mode": "half_pixel"},
      "input_shape": [1, 2, 4, 4], "output_shape": [1, 2, 8, 8], "onnx_inputs": {"scales": [1, 1, 2, 2]},
      "bytes": 640, "metric": "bytes"}
    ]}
    """
