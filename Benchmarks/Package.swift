// swift-tools-version: 6.1
// CNNKit's benchmarks with ordo-one/package-benchmark: one benchmark per case of the bundled suite
// (Sources/CNNKitBench/Resources/suite.json) for every fast backend, and the reference backend on the small cases.
// Its own package, so that users of the library never fetch the benchmark dependencies.
//
//   cd Benchmarks && swift package benchmark                               # everything
//   swift package benchmark --filter 'c/resnet50_3x3_64_56$'               # one case
//   swift package --allow-writing-to-package-directory benchmark baseline update main   # on main
//   swift package benchmark baseline check main                            # on a branch: fails past the thresholds
import PackageDescription

let package = Package(
    name: "CNNKitBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "CNNKit", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CNNKitSuite",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CNNKit", package: "CNNKit"),
                .product(name: "CNNKitBench", package: "CNNKit"),
            ],
            path: "Benchmarks/CNNKitSuite",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
