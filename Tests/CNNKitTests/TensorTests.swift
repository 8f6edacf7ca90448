import Foundation
import Testing
import CNNKit

@Suite struct TensorTests {
    @Test func npyRoundTripFloatAndInt() throws {
        let t = try Tensor(shape: [1, 2, 3], scalars: [1, -2, 3.5, .infinity, -0, 6])
        #expect(try Tensor(npyData: t.npyData()) == t)
        let i = try IndexTensor(shape: [2, 2], scalars: [0, -1, Int64.max, 7])
        #expect(try IndexTensor(npyData: i.npyData()) == i)
        let empty = try Tensor(shape: [0, 3])
        #expect(try Tensor(npyData: empty.npyData()).shape == [0, 3])
    }

    @Test func npyHeaderIsAlignedToSixtyFourBytes() throws {
        let data = try Tensor(shape: [1, 3, 8, 8]).npyData()
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(data.count == 10 + headerLength + 4 * 192)
    }

    @Test func npyReadsFixtureWrittenByNumPy() throws {
        let url = fixturesURL.appendingPathComponent("conformance/onnx-node/test_basic_conv_with_padding/input_0.npy")
        let x = try Tensor(npyFile: url)
        #expect(x.shape == [1, 1, 5, 5])
        #expect(x.scalars == (0..<25).map(Float.init))
    }

    @Test func npyRejectsWrongDtypeAndTruncation() throws {
        let floats = try Tensor(shape: [4]).npyData()
        expectError(parameter: "npy") { _ = try IndexTensor(npyData: floats) }
        expectError(parameter: "npy") { _ = try Tensor(npyData: floats.prefix(floats.count - 1)) }
        expectError(parameter: "npy") { _ = try Tensor(npyData: Data("not a numpy file".utf8)) }
    }

    @Test func shapeValidation() throws {
        expectError(parameter: "shape") { _ = try Tensor(shape: [2, -1]) }
        expectError(parameter: "shape") { _ = try Tensor(shape: [Int.max, 4]) }
        expectError(parameter: "scalars") { _ = try Tensor(shape: [2, 2], scalars: [1, 2, 3]) }
        #expect(try Tensor(shape: [0, 5]).count == 0)
    }
}

/// `Tests/CNNKitTests/Fixtures`.
let fixturesURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
