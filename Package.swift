// swift-tools-version: 6.1
// CNNKit: convolution, pooling and resampling primitives on float32 tensors (NCL / NCHW / NCDHW),
// one protocol layer with a pure-Swift reference backend and a C backend (OpenMP + OpenBLAS).
import PackageDescription

let package = Package(
    name: "CNNKit",
    products: [
        .library(name: "CNNKit", targets: ["CNNKit"]),
        .executable(name: "cnnkit", targets: ["cnnkit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Protocol layer, reference backend and the Swift side of the C backend (Sources/CNNKit/{Core,Backends}).
        .target(name: "CNNKit", dependencies: ["CKernels"]),
        // The C backend's kernels: portable C + OpenMP, OpenBLAS sgemm (CKernels/README.md has the naming grammar).
        // `-fopenmp` is an unsafe flag, so downstream packages depend on CNNKit by `branch:`/`revision:`/`path:`,
        // not `from:` (README "Using CNNKit as a dependency").
        .target(
            name: "CKernels",
            path: "CKernels",
            exclude: ["README.md"],
            cSettings: [.unsafeFlags(["-fopenmp", "-O3"])],
            linkerSettings: [.linkedLibrary("omp5"), .linkedLibrary("openblas"), .linkedLibrary("m")]
        ),
        // Case-folder loader and ONNX-attribute mapping shared by `cnnkit conformance` and the tests.
        .target(name: "CNNKitConformance", dependencies: ["CNNKit"]),
        .executableTarget(
            name: "cnnkit",
            dependencies: [
                "CNNKit", "CNNKitConformance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "CNNKitTests",
            dependencies: ["CNNKit", "CNNKitConformance"],
            exclude: ["Fixtures"]
        ),
    ]
)
