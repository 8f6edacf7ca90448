import CNNKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Options of one benchmark run (`cnnkit bench`).
public struct BenchOptions: Sendable {
    /// Backend names, in the order they run for each case.
    public var backends: [String]
    /// A convolution algorithm handed to every ``ConfigurableBackend`` (nil: each backend's heuristic).
    public var algorithm: String?
    /// An instruction-set cap handed to every ``ConfigurableBackend`` (nil: the best the CPU has).
    public var isa: String?
    /// Threads handed to configurable backends and exported as `CNNKIT_NUM_THREADS`.
    public var threads: Int
    /// Only cases whose `family/name` matches this regular expression.
    public var filter: String?
    /// Timed runs per case and backend (at least; short cases get more, see ``minimumTimedSeconds``).
    public var repetitions: Int
    /// A backend that would need more than this for the warm-up plus the timed runs of a case skips it.
    public var maxSeconds: Double
    /// Short cases repeat until the timed runs add up to about this (at most 1000 runs).
    public var minimumTimedSeconds: Double

    public init(
        backends: [String], algorithm: String? = nil, isa: String? = nil, threads: Int, filter: String? = nil, repetitions: Int = 10,
        maxSeconds: Double = 10, minimumTimedSeconds: Double = 0.25
    ) {
        self.backends = backends
        self.algorithm = algorithm
        self.isa = isa
        self.threads = threads
        self.filter = filter
        self.repetitions = repetitions
        self.maxSeconds = maxSeconds
        self.minimumTimedSeconds = minimumTimedSeconds
    }
}

/// One case on one backend: the `--json` record (README "Performance" documents the fields).
public struct BenchRecord: Codable, Sendable {
    public var caseName: String
    public var backend: String
    public var algorithm: String
    public var threads: Int
    public var medianMs: Double
    public var minMs: Double
    public var gflops: Double?
    public var gbs: Double?
    /// Rate over machine peak: GFLOP/s over FMA peak (metric `flops`), GB/s over copy bandwidth (`bytes`).
    public var peakFraction: Double?
    public var workspaceBytes: Int
    public var peakRssBytes: Int
    // Beyond the issue's fields:
    public var problem: String
    public var metric: String
    public var runs: Int
    /// The peak the fraction is taken against, e.g. `fma 206.1 GFLOP/s` or `L3 copy 120.5 GB/s`.
    public var peakBasis: String?
    /// Rate over the roofline min(FMA peak, intensity × bandwidth); equals peakFraction for byte-rated cases.
    public var rooflineFraction: Double?
    /// Reference median / this median.
    public var speedupVsReference: Double?
    /// Whether the reference time behind the speed-up was estimated from a reduced probe, not measured.
    public var referenceEstimated: Bool
    /// On reference rows: the estimate from the reduced probe (ms per run), to judge the estimator.
    public var referenceEstimateMs: Double? = nil
    /// Process CPU seconds per wall-clock second over the timed runs: about `threads` when the backend's threads
    /// ran undisturbed (busy-waiting counts as busy), lower when other work took the cores or threads idled.
    public var cpuPerWall: Double? = nil

    enum CodingKeys: String, CodingKey {
        case caseName = "case", backend, algorithm, threads
        case medianMs = "median_ms", minMs = "min_ms", gflops, gbs
        case peakFraction = "peak_fraction", workspaceBytes = "workspace_bytes", peakRssBytes = "peak_rss_bytes"
        case problem, metric, runs
        case peakBasis = "peak_basis", rooflineFraction = "roofline_fraction"
        case speedupVsReference = "speedup_vs_reference", referenceEstimated = "reference_estimated"
        case referenceEstimateMs = "reference_estimate_ms", cpuPerWall = "cpu_per_wall"
    }

    public func encode(to encoder: Encoder) throws {
        // Every key is written, null when unknown, so each record has the same fields.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(caseName, forKey: .caseName)
        try c.encode(backend, forKey: .backend)
        try c.encode(algorithm, forKey: .algorithm)
        try c.encode(threads, forKey: .threads)
        try c.encode(medianMs, forKey: .medianMs)
        try c.encode(minMs, forKey: .minMs)
        try c.encode(gflops, forKey: .gflops)
        try c.encode(gbs, forKey: .gbs)
        try c.encode(peakFraction, forKey: .peakFraction)
        try c.encode(workspaceBytes, forKey: .workspaceBytes)
        try c.encode(peakRssBytes, forKey: .peakRssBytes)
        try c.encode(problem, forKey: .problem)
        try c.encode(metric, forKey: .metric)
        try c.encode(runs, forKey: .runs)
        try c.encode(peakBasis, forKey: .peakBasis)
        try c.encode(rooflineFraction, forKey: .rooflineFraction)
        try c.encode(speedupVsReference, forKey: .speedupVsReference)
        try c.encode(referenceEstimated, forKey: .referenceEstimated)
        try c.encode(referenceEstimateMs, forKey: .referenceEstimateMs)
        try c.encode(cpuPerWall, forKey: .cpuPerWall)
    }
}

/// A case a backend did not run, and why.
public struct BenchSkip: Codable, Sendable {
    public var caseName: String
    public var backend: String
    public var reason: String
    enum CodingKeys: String, CodingKey {
        case caseName = "case", backend, reason
    }
}

/// Everything one run produced (the `--json` file).
public struct BenchReport: Codable, Sendable {
    public var schema = "cnnkit-bench/1"
    public var machine: MachinePeak
    public var threads: Int
    public var repetitions: Int
    public var maxSeconds: Double
    public var algorithm: String?
    public var backends: [String]
    /// 1-minute load average at the start and at the end of the run.
    public var loadAverageStart: Double
    public var loadAverageEnd: Double
    public var records: [BenchRecord]
    public var skipped: [BenchSkip]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case schema, machine, threads, repetitions, algorithm, backends, records, skipped, notes
        case maxSeconds = "max_seconds", loadAverageStart = "load_average_start", loadAverageEnd = "load_average_end"
    }
}

/// What the runner reports while it works.
public enum BenchEvent: Sendable {
    case record(BenchRecord)
    case skipped(BenchSkip)
    case note(String)
}

/// Runs suite cases on backends: warm-up, timed runs on preallocated tensors, rates against machine peak.
public struct BenchRunner {
    public let suite: BenchSuite
    public let options: BenchOptions
    public let peak: MachinePeak
    public let registry: BackendRegistry

    public init(suite: BenchSuite, options: BenchOptions, peak: MachinePeak, registry: BackendRegistry = .shared) {
        self.suite = suite
        self.options = options
        self.peak = peak
        self.registry = registry
    }

    /// The cases `options.filter` selects.
    /// - Throws: ``BenchError`` for an invalid regular expression.
    public func selectedCases() throws -> [BenchCase] {
        try Self.select(suite, filter: options.filter)
    }

    /// The cases of `suite` whose `family/name` matches the regular expression `filter` (all when nil).
    /// - Throws: ``BenchError`` for an invalid regular expression.
    public static func select(_ suite: BenchSuite, filter: String?) throws -> [BenchCase] {
        guard let pattern = filter else { return suite.cases }
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(pattern)
        } catch {
            throw BenchError("--filter \(pattern) is not a valid regular expression: \(error)")
        }
        return suite.cases.filter { "\($0.family)/\($0.name)".contains(regex) }
    }

    /// Runs every selected case on every backend, calling `emit` as results arrive.
    public func run(emit: (BenchEvent) -> Void) throws -> BenchReport {
        let cases = try selectedCases()
        var records: [BenchRecord] = [], skipped: [BenchSkip] = [], notes: [String] = []
        let loadStart = MachinePeak.loadAverage()
        func note(_ text: String) {
            notes.append(text)
            emit(.note(text))
        }
        func skip(_ c: BenchCase, _ backend: String, _ reason: String) {
            let entry = BenchSkip(caseName: c.name, backend: backend, reason: reason)
            skipped.append(entry)
            emit(.skipped(entry))
        }
        if cases.isEmpty { note("no case matches --filter \(options.filter ?? "")") }
        if let algorithm = options.algorithm {
            let takers = options.backends.filter { name in
                (registry.backend(named: name) as? any ConfigurableBackend)?.convolutionAlgorithms.contains(algorithm) == true
            }
            if takers.isEmpty {
                note("--algorithm \(algorithm): no selected backend takes this algorithm (a backend takes one by adopting "
                    + "ConfigurableBackend); conv cases are skipped on every backend but the reference, which has one algorithm")
            }
        }
        if !ResourceUsage.resetPeak() {
            note("peak_rss_bytes is the process-wide peak so far (its reset through /proc/self/clear_refs is unavailable)")
        }
        let referenceRegistered = registry.backend(named: "reference") != nil

        for c in cases {
            // Reference estimate from a reduced probe: decides whether the reference fits in --max-seconds and
            // gives an approximate speed-up when the reference itself does not run.
            var referenceEstimate: Double? = nil
            if referenceRegistered {
                referenceEstimate = estimateReference(c)
            }
            var referenceMedian: Double? = nil
            for backend in options.backends {
                let isReference = backend == "reference"
                if isReference, let estimate = referenceEstimate {
                    let total = estimate * Double(options.repetitions + 1)
                    if total > options.maxSeconds {
                        skip(c, backend, String(format: "estimated %.3g s per run from a reduced probe, %.3g s for the warm-up and %d runs > --max-seconds %g",
                                                estimate, total, options.repetitions, options.maxSeconds))
                        continue
                    }
                }
                ResourceUsage.resetPeak()
                let workload: Workload
                do {
                    workload = try Workload.make(
                        c, backend: backend, threads: options.threads, algorithm: isReference ? nil : options.algorithm,
                        isa: isReference ? nil : options.isa,
                        registry: registry)
                } catch {
                    skip(c, backend, "\(error)")
                    continue
                }
                let samples: [Double]
                let cpuPerWall: Double
                switch time(workload) {
                case .tooSlow(let first):
                    skip(c, backend, String(format: "the warm-up run took %.3g s; %d runs would exceed --max-seconds %g",
                                            first, options.repetitions, options.maxSeconds))
                    continue
                case .measured(let measured, let ratio):
                    samples = measured
                    cpuPerWall = ratio
                }
                let sorted = samples.sorted()
                let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : 0.5 * (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2])
                if isReference { referenceMedian = median }
                let threads = registry.backend(named: backend) is ReferenceBackend ? 1 : options.threads
                var record = BenchRecord(
                    caseName: c.name, backend: backend, algorithm: workload.algorithm, threads: threads,
                    medianMs: median * 1e3, minMs: sorted[0] * 1e3, gflops: c.gflops(seconds: median), gbs: c.gbs(seconds: median),
                    peakFraction: nil, workspaceBytes: workload.workspaceBytes, peakRssBytes: ResourceUsage.peakResidentBytes(),
                    problem: workload.problem, metric: c.metric, runs: samples.count, peakBasis: nil, rooflineFraction: nil,
                    speedupVsReference: nil, referenceEstimated: false)
                rate(&record, c, threads: threads)
                record.cpuPerWall = cpuPerWall
                if isReference { record.referenceEstimateMs = referenceEstimate.map { $0 * 1e3 } }
                if let referenceMedian {
                    record.speedupVsReference = referenceMedian / median
                } else if let referenceEstimate {
                    record.speedupVsReference = referenceEstimate / median
                    record.referenceEstimated = true
                }
                records.append(record)
                emit(.record(record))
            }
        }
        return BenchReport(
            machine: peak, threads: options.threads, repetitions: options.repetitions, maxSeconds: options.maxSeconds,
            algorithm: options.algorithm, backends: options.backends, loadAverageStart: loadStart,
            loadAverageEnd: MachinePeak.loadAverage(), records: records, skipped: skipped, notes: notes)
    }

    /// Fills the peak and roofline fractions.
    func rate(_ record: inout BenchRecord, _ c: BenchCase, threads: Int) {
        // A kernel that runs AVX-512 is rated against the AVX-512 peak, every other against the AVX2 one.
        let fma = peak.fmaGflops(threads: threads, avx512: record.algorithm.hasSuffix("/avx512"))
        let bytes = c.bytes ?? 0
        let bandwidth = peak.copyGbs(bytes: bytes, threads: threads)
        let level = peak.fitsInL3(bytes) ? "L3" : "DRAM"
        if c.ratesFlops, let gflops = record.gflops, fma > 0 {
            record.peakFraction = gflops / fma
            record.peakBasis = String(format: "fma %.1f GFLOP/s (%@)", fma, record.algorithm.hasSuffix("/avx512") ? "AVX-512" : "AVX2")
            if let intensity = c.arithmeticIntensity, bandwidth > 0 {
                let roof = min(fma, intensity * bandwidth)
                record.rooflineFraction = gflops / roof
            }
        } else if !c.ratesFlops, let gbs = record.gbs, bandwidth > 0 {
            record.peakFraction = gbs / bandwidth
            record.rooflineFraction = record.peakFraction
            record.peakBasis = String(format: "%@ copy %.1f GB/s", level, bandwidth)
        }
    }

    enum Timing {
        /// Seconds per run, and process CPU seconds per wall second over them.
        case measured([Double], Double)
        case tooSlow(Double)
    }

    /// Warm-up, then the timed runs (seconds each); `.tooSlow` when the runs would not fit in --max-seconds.
    func time(_ workload: Workload) -> Timing {
        var start = monotonicSeconds()
        workload.run()
        let first = monotonicSeconds() - start
        if first * Double(options.repetitions) + first > options.maxSeconds { return .tooSlow(first) }
        // Warm-up: at least one run and at least 50 ms (thread pools, page faults, caches).
        var fastest = first, warm = first, warmRuns = 1
        while warm < 0.05 && warmRuns < 100 {
            start = monotonicSeconds()
            workload.run()
            let t = monotonicSeconds() - start
            fastest = min(fastest, t)
            warm += t
            warmRuns += 1
        }
        let wanted = fastest > 0 ? Int(options.minimumTimedSeconds / fastest) : 1000
        let budgetRuns = fastest > 0 ? Int((options.maxSeconds - warm) / fastest) : 1000
        let runs = max(options.repetitions, min(1000, wanted, budgetRuns))
        var samples: [Double] = []
        samples.reserveCapacity(runs)
        let cpuStart = processCPUSeconds(), wallStart = monotonicSeconds()
        for _ in 0..<runs {
            start = monotonicSeconds()
            workload.run()
            samples.append(monotonicSeconds() - start)
        }
        let wall = monotonicSeconds() - wallStart
        return .measured(samples, wall > 0 ? (processCPUSeconds() - cpuStart) / wall : 0)
    }

    /// Seconds per run of the reference backend on the full case, from a reduced problem (``Workload/probeReduction(_:targetWork:)``)
    /// scaled by the work ratio.
    func estimateReference(_ c: BenchCase) -> Double? {
        guard let probe = try? Workload.make(c, backend: "reference", reduction: Workload.probeReduction(c), registry: registry)
        else { return nil }
        var start = monotonicSeconds()
        probe.run()
        var best = monotonicSeconds() - start
        if best < 0.05 {  // a second run when cheap: the first may pay page faults
            start = monotonicSeconds()
            probe.run()
            best = min(best, monotonicSeconds() - start)
        }
        return best * probe.workScale
    }
}

/// User + system CPU seconds of the whole process (all threads).
public func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
}

/// CLOCK_MONOTONIC in seconds.
public func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
}
