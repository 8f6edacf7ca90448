// swift-tools-version: 6.1
// CNNKit: convolution, pooling and resampling primitives on float32 tensors (NCL / NCHW / NCDHW),
// one protocol layer with a pure-Swift reference backend and a C backend (OpenMP + OpenBLAS).
import PackageDescription

let package = Package(
    name: "CNNKit",
    products: [
        .library(name: "CNNKit", targets: ["CNNKit"]),
        .executable(name: "cnnkit", targets: ["cnnkit"]),
        // Suite loading, workloads, timing and machine peak behind `cnnkit bench`; used by the Benchmarks package.
        .library(name: "CNNKitBench", targets: ["CNNKitBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The protocol layer: tensors, descriptors → validated problems, errors, the Backend protocol and its
        // prepared operators, the registry. It imports no backend.
        .target(name: "CNNKitCore"),
        // The reference backend: plain loops from the definitions, the oracle.
        .target(name: "CNNKitReference", dependencies: ["CNNKitCore"]),
        // The C backend's Swift side: prepares problems (algorithm, ISA, packed weights) and runs CKernels.
        .target(name: "CNNKitCBackend", dependencies: ["CNNKitCore", "CKernels"]),
        // The product: re-exports the layers, registers the built-in backends in order, plans and one-call functions.
        .target(name: "CNNKit", dependencies: ["CNNKitCore", "CNNKitReference", "CNNKitCBackend"]),
        // The C backend's kernels: portable C + OpenMP, OpenBLAS sgemm (CKernels/README.md has the naming grammar).
        // `-fopenmp` is an unsafe flag, so downstream packages depend on CNNKit by `branch:`/`revision:`/`path:`,
        // not `from:` (README "Using CNNKit as a dependency").
        .target(
            name: "CKernels",
            path: "CKernels",
            exclude: ["README.md", "conv/ck_conv_algorithms.def"],
            cSettings: [.unsafeFlags(["-fopenmp", "-O3"])],
            linkerSettings: [.linkedLibrary("omp5"), .linkedLibrary("openblas"), .linkedLibrary("m")]
        ),
        // Case-folder loader and ONNX-attribute mapping shared by `cnnkit conformance` and the tests.
        .target(name: "CNNKitConformance", dependencies: ["CNNKit"]),
        // libpng (Debian libpng-dev) as a system library, wrapped by a small C target that turns libpng's
        // longjmp errors into status codes, and the PNG / .npy image I/O the `cnnkit` tool and the tests use.
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .target(name: "CPNGShim", dependencies: ["CPNG"]),
        .target(name: "CNNKitImageIO", dependencies: ["CNNKit", "CPNGShim"]),
        // Machine-peak probes (AVX2 FMA chains, array copies) in C with inline assembly: no compiler flags needed.
        .target(name: "CPeakProbe"),
        // The benchmark harness: the bundled suite (embedded in the binary), workloads, timing, peak, reports.
        .target(
            name: "CNNKitBench",
            dependencies: ["CNNKit", "CPeakProbe"],
            resources: [.embedInCode("Resources/suite.json")]
        ),
        .executableTarget(
            name: "cnnkit",
            dependencies: [
                "CNNKit", "CNNKitConformance", "CNNKitImageIO", "CNNKitBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "CNNKitTests",
            dependencies: ["CNNKit", "CNNKitConformance", "CNNKitImageIO"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "CNNKitBenchTests", dependencies: ["CNNKitBench", "CNNKit", "CPeakProbe"]),
    ]
)
