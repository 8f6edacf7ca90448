import Benchmark
import CNNKit
import CNNKitBench
import Foundation

// One benchmark per suite case and backend, named `<backend>/<case>`:
// - every registered backend except the reference (the C backend, "c") on every case;
// - the reference backend on the small cases only (it runs naive loops: seconds per run on the large ones).
// CNNKIT_BENCH_BACKENDS=c,reference (comma-separated) overrides the backend list; the reference still runs only
// the small cases. Tensors are allocated and planned in setup, outside the measurement.

/// Small enough for the reference backend: at most 10 MFLOP (convolutions) or 5 MB of tensors (pools, resizes).
func isSmallForReference(_ c: BenchCase) -> Bool {
    c.ratesFlops ? (c.flops ?? .max) <= 10_000_000 : (c.bytes ?? .max) <= 5_000_000
}

let benchmarks: @Sendable () -> Void = {
    let suite: BenchSuite
    do {
        suite = try BenchSuite.bundled()
    } catch {
        fatalError("cannot load the bundled suite: \(error)")
    }
    let registered = BackendRegistry.shared.names
    let requested = ProcessInfo.processInfo.environment["CNNKIT_BENCH_BACKENDS"]?
        .split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    let backends = (requested ?? registered).filter(registered.contains)

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: .seconds(3),
        maxIterations: 200,
        thresholds: [
            // Regression gate for `baseline check`: the median may move 10% (2 shared cores are noisy).
            .wallClock: .init(relative: [.p50: 10.0]),
        ]
    )

    for c in suite.cases {
        for backend in backends {
            if backend == "reference" && !isSmallForReference(c) { continue }
            Benchmark(
                "\(backend)/\(c.name)",
                configuration: .init(tags: ["family": c.family, "metric": c.metric]),
                closure: { benchmark, workload in
                    for _ in benchmark.scaledIterations {
                        workload.run()
                    }
                },
                setup: { try Workload.make(c, backend: backend) }
            )
        }
    }
}
