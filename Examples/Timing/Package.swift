// swift-tools-version: 6.1
// Quick timing of the benchmark suite (../shared/bench/suite.json) on one CNNKit backend; not a test.
//   swift run -c release Timing ../../../shared/bench/suite.json --backend c --threads 2
// ort_suite.py times the same cases with onnxruntime for a same-run comparison.
import PackageDescription

let package = Package(
    name: "Timing",
    dependencies: [.package(name: "CNNKit", path: "../..")],
    targets: [.executableTarget(name: "Timing", dependencies: [.product(name: "CNNKit", package: "CNNKit")])]
)
