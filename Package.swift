// swift-tools-version: 6.2
// CNNKit: convolution, pooling and resampling primitives on float32 tensors (NCL / NCHW / NCDHW),
// one protocol layer with a pure-Swift reference backend and a C backend (OpenMP + OpenBLAS).
import PackageDescription

let package = Package(
    name: "CNNKit",
    products: [
        .library(name: "CNNKit", targets: ["CNNKit"]),
        .library(name: "CNNKitNN", targets: ["CNNKitNN"]),
        .executable(name: "cnnkit", targets: ["cnnkit"]),
        // Suite loading, workloads, timing and machine peak behind `cnnkit bench`; used by the Benchmarks package.
        .library(name: "CNNKitBench", targets: ["CNNKitBench"]),
        // Images and arrays as tensors: PNG (libpng), JPEG (libjpeg-turbo) and .npy load/save as `[1, C, H, W]`.
        .library(name: "CNNKitImageIO", targets: ["CNNKitImageIO"]),
        // The in-process fuzzing harness behind scripts/fuzz.sh.
        .executable(name: "CNNKitFuzz", targets: ["CNNKitFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation` (DocC); a plugin, so it adds nothing to what users build.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
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
        // `-fopenmp` is an unsafe flag; SwiftPM accepts it in a versioned (`from:`) dependency only because this
        // manifest declares swift-tools-version 6.2 or later (README "Using CNNKit as a dependency").
        .target(
            name: "CKernels",
            path: "CKernels",
            exclude: ["README.md", "conv/ck_conv_algorithms.def"],
            cSettings: [.unsafeFlags(["-fopenmp", "-O3"])],
            linkerSettings: [.linkedLibrary("omp5"), .linkedLibrary("openblas"), .linkedLibrary("m")]
        ),
        // A small training layer on top of the primitives: layers, softmax cross-entropy, SGD with momentum.
        .target(name: "CNNKitNN", dependencies: ["CNNKit"]),
        // Case-folder loader and ONNX-attribute mapping shared by `cnnkit conformance` and the tests.
        .target(name: "CNNKitConformance", dependencies: ["CNNKit"]),
        // libpng (Debian libpng-dev) as a system library, wrapped by a small C target that turns libpng's
        // longjmp errors into status codes; libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0-dev), which
        // reports errors by return value itself; and the PNG / JPEG / .npy image I/O product on top of them.
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .target(name: "CPNGShim", dependencies: ["CPNG"]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .target(name: "CNNKitImageIO", dependencies: ["CNNKitCore", "CPNGShim", "CTurboJPEG"]),
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
                "CNNKit", "CNNKitConformance", "CNNKitImageIO", "CNNKitBench", "CNNKitNN",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Resources")]
        ),
        // What every backend's tests share: seeded data, the cross-check harness over every registered backend
        // variant (BackendVariant), direct prepare-and-run helpers. A new backend is cross-checked by registering it.
        .target(name: "CNNKitTestSupport", dependencies: ["CNNKit", "CNNKitConformance"]),
        .testTarget(
            name: "CNNKitTests",
            dependencies: ["CNNKit", "CNNKitConformance", "CNNKitImageIO", "CNNKitTestSupport", "CNNKitNN"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "CNNKitBenchTests", dependencies: ["CNNKitBench", "CNNKit", "CPeakProbe"]),
        // The fuzzing harness (scripts/fuzz.sh): random valid and invalid descriptors across every operator, run on
        // every registered backend, checked against the reference backend with the cross-check rules.
        .executableTarget(name: "CNNKitFuzz", dependencies: ["CNNKit", "CNNKitTestSupport"]),
    ]
)
