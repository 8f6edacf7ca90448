// Runs one 3×3 convolution on the C backend and checks it against the reference backend.
import CNNKit
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
print("conv on backend c: \(fast.shape), matches reference (\(BackendRegistry.shared.names.joined(separator: ", ")))")
