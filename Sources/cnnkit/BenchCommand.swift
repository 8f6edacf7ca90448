import ArgumentParser
import CNNKit
import CNNKitBench
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `cnnkit bench`: times the benchmark suite on CNNKit's backends and rates each case against machine peak.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time real network layers on CNNKit's backends: ms, GFLOP/s or GB/s, % of machine peak, speed-up over the reference.",
        discussion: """
            Each case of the suite (by default the bundled one: ResNet-50, VGG-16, AlexNet, MobileNetV2 and wav2vec2 \
            layers, image filters, pools and resizes) is planned once per backend on preallocated, randomly filled \
            tensors, warmed up (at least one run and 50 ms), then timed at least --repetitions times (short cases \
            repeat for about 0.25 s, at most 1000 runs). Convolutions are rated in GFLOP/s (2 x MACs of the direct \
            algorithm) against the FMA peak, pooling and resizing in GB/s (each tensor counted once) against the copy \
            bandwidth of L3-resident data, or of DRAM when the tensors exceed the L3 cache. %roof is the rate over \
            min(FMA peak, FLOP/byte x bandwidth). vs ref is the reference backend's median over this one; '~' marks a \
            reference time estimated from a reduced problem (fewer channels, a shorter first spatial axis) when \
            the reference did not run.

            The reference backend is slow: it skips every case whose estimated time (from the reduced problem) for \
            the warm-up and the timed runs exceeds --max-seconds; any backend skips a case when its first run shows \
            the timed runs would. Skips are printed with the reason.

            Machine peak comes from `cnnkit bench --peak` (C probes: AVX2 FMA chains, array copies), cached in \
            $XDG_CACHE_HOME/cnnkit/peak.json (~/.cache/cnnkit/peak.json); without a cache entry for this CPU the \
            first run measures it (a few seconds).
            """
    )

    @Option(name: .long, help: ArgumentHelp("A suite JSON file (default: the bundled suite).", valueName: "file"))
    var suite: String?

    @Option(name: .long, help: ArgumentHelp("A registered backend; repeat for several; 'all' = every registered backend (default).", valueName: "name"))
    var backend: [String] = []

    @Option(name: .long, help: ArgumentHelp("Force this convolution algorithm on backends that offer a choice (ConfigurableBackend); others skip conv cases.", valueName: "name"))
    var algorithm: String?

    @Option(name: .long, help: ArgumentHelp("Cap the kernels of backends with instruction-set variants (portable, avx2, avx512). Default: the best the CPU has.", valueName: "name"))
    var isa: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Threads for multi-threaded backends, \(ThreadCount.range.lowerBound)…\(ThreadCount.range.upperBound). Default: the number of cores.", valueName: "n"))
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("Only cases whose family/name (e.g. conv/resnet50_3x3_64_56) matches this regular expression.", valueName: "regex"))
    var filter: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Timed runs per case and backend, at least, 1…100000 (default 10).", valueName: "n"))
    var repetitions: Int = 10

    @Option(name: .customLong("max-seconds"), parsing: .unconditional, help: ArgumentHelp("Skip a case on a backend that would need longer than this for its warm-up and timed runs.", valueName: "s"))
    var maxSeconds: Double = 10

    @Option(name: .long, help: ArgumentHelp("Also write every record to this JSON file.", valueName: "file"))
    var json: String?

    @Flag(name: .long, help: "Measure the machine peak (FMA GFLOP/s, copy GB/s), print it, refresh the cache, and stop.")
    var peak = false

    @Flag(name: .long, help: "Print the table as Markdown.")
    var markdown = false

    @Flag(name: .long, help: "List the suite's cases (after --filter) and stop.")
    var list = false

    func validate() throws {
        if let threads { try usageError { () throws(CLIError) in try ThreadCount.check(threads, option: "--threads") } }
        guard (1...100_000).contains(repetitions) else {
            throw ValidationError("--repetitions \(repetitions): expected a whole number from 1 to 100000")
        }
        guard maxSeconds > 0, maxSeconds.isFinite else {
            throw ValidationError("--max-seconds \(maxSeconds): expected a finite number of seconds > 0")
        }
        if let filter, (try? Regex(filter)) == nil {
            throw ValidationError("--filter \(filter) is not a valid regular expression")
        }
        _ = try resolveBackends(BackendRegistry.shared)
        if let json {  // before the run, not after minutes of it
            let folder = URL(fileURLWithPath: json).deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("--json \(json): the folder \(folder) does not exist")
            }
        }
    }

    func run() throws {
        if peak {
            let measured = try measurePeak()
            print(BenchTable.machineSummary(measured))
            return
        }
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount

        let loaded = try loadSuite()
        let registry = BackendRegistry.shared
        let names = try resolveBackends(registry)
        let options = BenchOptions(
            backends: names, algorithm: algorithm, isa: isa, threads: threadCount, filter: filter, repetitions: repetitions,
            maxSeconds: maxSeconds)
        if list {
            for c in try BenchRunner.select(loaded, filter: filter) {
                let work = c.ratesFlops ? "\(c.flops ?? 0) FLOP" : "\(c.bytes ?? 0) bytes"
                print("\(c.family)/\(c.name)  \(c.op) \(c.inputShape) -> \(c.outputShape)  \(work)")
            }
            return
        }
        if repetitions < 10 {
            warn("--repetitions \(repetitions) is below 10: medians of so few runs are noisy")
        }
        let machine: MachinePeak
        if let cached = MachinePeak.cached() {
            machine = cached
        } else {
            warn("measuring machine peak once (cached in \(MachinePeak.cacheURL.path); `cnnkit bench --peak` re-measures)")
            machine = try measurePeak()
        }
        print(BenchTable.machineSummary(machine))
        print(String(format: "run: backends %@, %d threads, >= %d timed runs, --max-seconds %g, load average %.2f at start",
                     names.joined(separator: ", "), threadCount, repetitions, maxSeconds, MachinePeak.loadAverage()))
        if let algorithm { print("algorithm: \(algorithm)") }
        print("OpenBLAS kernels: \(CBackend.blasCoreName)")
        if let advice = CBackend.blasAdvice { warn(advice) }
        print("")
        print(BenchTable.header(markdown: markdown))
        flush()

        let runner = BenchRunner(suite: loaded, options: options, peak: machine, registry: registry)
        var skipLines: [String] = []
        let report = try runner.run { event in
            switch event {
            case .record(let record):
                print(BenchTable.row(record, markdown: markdown))
            case .skipped(let skip):
                let text = "skipped \(skip.caseName) on \(skip.backend): \(skip.reason)"
                skipLines.append(text)
                if !markdown { print("  " + text) }
            case .note(let text):
                print("note: \(text)")
            }
            flush()
        }
        if markdown && !skipLines.isEmpty {
            print("")
            for line in skipLines { print("- \(line)") }
        }
        print(String(format: "\n%d records, %d skipped; load average %.2f at the end",
                     report.records.count, report.skipped.count, report.loadAverageEnd))
        let busy = report.records.compactMap { r in r.cpuPerWall.map { $0 / Double(max(1, r.threads)) } }.sorted()
        if !busy.isEmpty {
            print(String(format: "CPU time per thread per wall second during the timed runs: median %.2f, lowest %.2f "
                         + "(1.00 = the threads had their cores; lower = other work or idle threads)",
                         busy[busy.count / 2], busy[0]))
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try OutputGate.shared.write { try encoder.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic) }
            } catch {
                throw CLIError("--json \(json): cannot write (\(describe(error, file: nil)))")
            }
            print("wrote \(json)")
        }
    }

    private func loadSuite() throws -> BenchSuite {
        guard let suite else { return try BenchSuite.bundled() }
        do {
            try requireRegularFile(suite, expected: "a suite JSON file")
            return try BenchSuite(contentsOf: URL(fileURLWithPath: suite))
        } catch let error as BenchError {
            throw ValidationError("--suite \(suite): \(error)")
        } catch {
            throw ValidationError("--suite \(suite): cannot read it as a suite (\(describe(error, file: nil)))")
        }
    }

    /// The requested backends, the reference first (so later rows compare against a measured reference).
    private func resolveBackends(_ registry: BackendRegistry) throws -> [String] {
        let registered = registry.names
        var names: [String] = []
        for name in backend.isEmpty ? ["all"] : backend {
            if name == "all" {
                names += registered
            } else {
                guard registered.contains(name) else {
                    throw ValidationError("--backend \(name): no such backend (registered: \(registered.joined(separator: ", ")), or all)")
                }
                names.append(name)
            }
        }
        var unique: [String] = []
        for name in names where !unique.contains(name) { unique.append(name) }
        if let index = unique.firstIndex(of: "reference") {
            unique.insert(unique.remove(at: index), at: 0)
        }
        return unique
    }

    private func measurePeak() throws -> MachinePeak {
        let measured = try MachinePeak.measure { label in
            warn("peak probe: \(label)")
        }
        if !measured.store() { warn("could not write \(MachinePeak.cacheURL.path); the next run measures again") }
        return measured
    }

    private func warn(_ text: String) {
        flush()
        FileHandle.standardError.write(Data("cnnkit bench: \(text)\n".utf8))
    }

    private func flush() {
        // Every stream: rows appear as they are measured; a closed pipe (| head) stops the run.
        if fflush(nil) != 0 && errno == EPIPE { Interrupts.stop(signal: SIGPIPE) }
    }
}
