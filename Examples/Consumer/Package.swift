// swift-tools-version: 6.1
// A downstream package that uses CNNKit the way the README recommends. CNNKit's C target is built with
// `-fopenmp` (an unsafe flag), so SwiftPM refuses a `from:`/`exact:` version requirement on it; depend on a
// branch, a revision, or (here, for CI) a local path instead:
//     .package(url: "https://github.com/OWNER/CNNKit", branch: "main")
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [
        .package(name: "CNNKit", path: "../.."),
    ],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [.product(name: "CNNKit", package: "CNNKit")]),
    ]
)
