// libFuzzer target for the file readers, through their public API only: the .npy parser
// (`Tensor(npyData:)`, `IndexTensor(npyData:)`) and the PNG decoder (`ImageIO.decode(_:format:path:)`).
// Every input must either decode or throw; a trap, an abort or an AddressSanitizer report is a bug.
// scripts/fuzz.sh builds it with `swiftc -sanitize=fuzzer,address` (CNNKitCore and CNNKitImageIO compiled in).
import CNNKitCore
import CNNKitImageIO
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReaders(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    // Every decoded tensor's allocation goes through the memory budget: a header promising 2^40 elements throws.
    MemoryBudget.limit = 64 << 20
    let data = Data(bytes: bytes, count: count)
    guard let selector = data.first else { return 0 }
    let body = data.dropFirst()
    switch selector % 4 {
    case 0:
        _ = try? Tensor(npyData: Data(body))
    case 1:
        _ = try? IndexTensor(npyData: Data(body))
    case 2:
        // A valid .npy magic and version, then the fuzz bytes as header length and header.
        _ = try? Tensor(npyData: Data([0x93] + Array("NUMPY".utf8) + [1, 0]) + body)
    default:
        // PNG signature, then the fuzz bytes as chunks.
        _ = try? ImageIO.decode(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + body, format: .png, path: "fuzz.png")
    }
    return 0
}
