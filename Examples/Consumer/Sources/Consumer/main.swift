// Runs one 3×3 convolution on the C backend, checks it against the reference backend, and round-trips the result
// through CNNKitImageIO (.npy exactly, PNG to 8 bits).
import CNNKit
import CNNKitImageIO
import Foundation

let x = try Tensor(shape: [1, 2, 5, 5], scalars: (0..<50).map { Float($0 % 7) - 3 })
let w = try Tensor(shape: [4, 2, 3, 3], scalars: (0..<72).map { Float($0 % 5) - 2 })
let descriptor = ConvolutionDescriptor(pads: [1, 1, 1, 1])
let fast = try convolution(x, weight: w, descriptor, backend: "c")
let slow = try convolution(x, weight: w, descriptor, backend: "reference")
guard fast == slow else {  // small integers: both are exact
    print("mismatch: c \(fast) vs reference \(slow)")
    exit(1)
}

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cnnkit-consumer-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
try ImageIO.save(fast, to: folder.appendingPathComponent("y.npy"))
let (low, high) = (fast.scalars.min()!, fast.scalars.max()!)
let image = try Tensor(shape: [1, 3, 5, 5], scalars: fast.scalars.prefix(75).map { ($0 - low) / (high - low) })
try ImageIO.save(image, to: folder.appendingPathComponent("y.png"))
let npyBack = try ImageIO.load(folder.appendingPathComponent("y.npy"))
let pngBack = try ImageIO.load(folder.appendingPathComponent("y.png"))
let pngError = zip(pngBack.scalars, image.scalars).map { abs($0 - $1) }.max() ?? 1
guard npyBack.scalars == fast.scalars, pngBack.shape == image.shape, pngError <= 0.5 / 255 + 1e-6 else {
    print("image I/O round trip failed: .npy \(npyBack.shape), PNG max error \(pngError)")
    exit(1)
}
print("conv on backend c: \(fast.shape), matches reference (\(BackendRegistry.shared.names.joined(separator: ", "))); image I/O round trip ok")
