// swift-tools-version: 6.2
// A downstream package that uses CNNKit the way the README shows. Here (for CI) CNNKit is a local path; `name:`
// gives the dependency the identity "CNNKit" that `.product(…, package: "CNNKit")` refers to, whatever the folder
// is called. CI also builds a copy of this package with the line below switched to the versioned form
//     .package(url: "file:///…/CNNKit", from: "0.1.0")
// against a tagged clone (.ci/run).
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [
        .package(name: "CNNKit", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "Consumer",
            dependencies: [
                .product(name: "CNNKit", package: "CNNKit"),
                .product(name: "CNNKitImageIO", package: "CNNKit"),
            ]
        ),
    ]
)
