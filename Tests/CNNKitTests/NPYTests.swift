import CNNKit
import CNNKitImageIO
import Foundation
import Testing

/// `.npy` reading of every dtype, byte order, memory order and format version NumPy writes (fixtures written by
/// `Fixtures/npy/make_fixtures.py` with NumPy), and refusal of malformed files without trapping.
@Suite("npy files")
struct NPYTests {
    static func fixture(_ name: String) -> URL { fixturesURL.appendingPathComponent("npy/\(name)") }

    /// a[i, j, k] = (12 i + 4 j + k) / 2 − 3, C order.
    static let expected = (0..<24).map { Float($0) / 2 - 3 }

    @Test(arguments: ["f8-c.npy", "f8-fortran.npy", "f8-big-fortran.npy", "f4-big.npy", "f4-fortran.npy", "f4-v2.npy"])
    func floatFilesReadInCOrder(name: String) throws {
        let tensor = try Tensor(npyFile: Self.fixture(name))
        #expect(tensor.shape == [2, 3, 4], "\(name)")
        #expect(tensor.scalars == Self.expected, "\(name)")
        #expect(tensor[1, 2, 3] == 8.5 && tensor[0, 1, 0] == -1, "\(name): a[i, j, k] at its C-order place")
    }

    @Test(arguments: ["i8-big.npy", "i8-fortran.npy"])
    func int64FilesReadInCOrder(name: String) throws {
        let tensor = try IndexTensor(npyFile: Self.fixture(name))
        #expect(tensor.shape == [2, 3, 4])
        #expect(tensor.scalars == (0..<24).map { Int64($0) - 6 })
    }

    @Test func uint8ReadsAsRawValues() throws {
        let tensor = try Tensor(npyFile: Self.fixture("u1.npy"))
        #expect(tensor.scalars == (0..<24).map { Float($0 * 10) })
    }

    @Test func float64IsRoundedToFloat32() throws {
        let tensor = try Tensor(npyFile: Self.fixture("f8-special.npy"))
        #expect(tensor.shape == [6])
        #expect(tensor.scalars[0] == Float(0.1))
        #expect(tensor.scalars[1] == .infinity && tensor.scalars[2] == -.infinity)
        #expect(tensor.scalars[3].isNaN)
        #expect(tensor.scalars[4] == 0)
        #expect(tensor.scalars[5] == Float(sign: .plus, exponent: -140, significand: 1), "a float32 subnormal")
    }

    @Test func imageIOReadsFloat64AndFortranArrays() throws {
        let file = try ImageIO.read(Self.fixture("f8-big-fortran.npy").path)
        #expect(file.tensor.shape == [1, 2, 3, 4])
        #expect(file.tensor.scalars == Self.expected)
        #expect(file.storedRank == 3)
    }

    @Test func writeStaysLittleEndianFloat32COrder() throws {
        let data = try Tensor(npyFile: Self.fixture("f8-fortran.npy")).npyData()
        let header = String(decoding: data[10..<(10 + Int(data[8]) | Int(data[9]) << 8)], as: UTF8.self)
        #expect(header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"))
        #expect(try Tensor(npyData: data).scalars == Self.expected)
        let indices = try IndexTensor(npyFile: Self.fixture("i8-big.npy")).npyData()
        #expect(String(decoding: indices.prefix(80), as: UTF8.self).contains("'<i8'"))
    }

    @Test func dtypeMismatchesAreRefused() throws {
        expectError(parameter: "npy") { _ = try IndexTensor(npyData: try Data(contentsOf: Self.fixture("f8-c.npy"))) }
        expectError(parameter: "npy") { _ = try Tensor(npyData: try Data(contentsOf: Self.fixture("i8-big.npy"))) }
        let path = Self.fixture("i8-big.npy").path
        #expect { try Tensor(npyFile: Self.fixture("i8-big.npy")) } throws: { error in
            "\(error)".hasPrefix("\(path) = dtype '>i8'")  // the file-reading form names the file
        }
        for descr in ["<f2", "<i4", "|f4", "f4", "<c8", "<U3", "[('a', '<f4')]"] {
            let quoted = descr.hasPrefix("[") ? descr : "'\(descr)'"
            let data = Self.npy(header: "{'descr': \(quoted), 'fortran_order': False, 'shape': (2,), }", payload: 16)
            #expect(throws: CNNKitError.self, "\(descr)") { _ = try Tensor(npyData: data) }
        }
    }

    /// Bytes of a version-1.0 `.npy` file with this header text and `payload` zero bytes of data.
    static func npy(header: String, payload: Int, version: UInt8 = 1) -> Data {
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0])
        let text = Array((header + "\n").utf8)
        data.append(contentsOf: [UInt8(text.count & 0xFF), UInt8(text.count >> 8)])
        data.append(contentsOf: text)
        data.append(contentsOf: [UInt8](repeating: 0, count: payload))
        return data
    }

    /// Malformed headers throw one-line errors.
    @Test func malformedHeadersThrowOneLineErrors() throws {
        let headers = [
            "", "{", "}", "{}", "not a dict", "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'shape': (2,), }", "{'fortran_order': False, 'shape': (2,), }",
            "{'descr': '<f4', 'fortran_order': maybe, 'shape': (2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [2], }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'x'), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (3,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } trailing",
            "{'descr: '<f4', 'fortran_order': False, 'shape': (2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': ((2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }",  // data truncated
        ]
        for header in headers {
            #expect(throws: CNNKitError.self, "\(header)") { _ = try Tensor(npyData: Self.npy(header: header, payload: 8)) }
            do { _ = try Tensor(npyData: Self.npy(header: header, payload: 8)) } catch {
                #expect(!"\(error)".contains("\n"), "one line: \(error)")
                #expect((error as? CNNKitError)?.kind == .io || (error as? CNNKitError)?.kind == .overflow, "\(error)")
            }
        }
        // A header length past the end of the file, an unknown format version, a bad magic string.
        var long = Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", payload: 8)
        long[8] = 0xFF
        long[9] = 0xFF
        #expect(throws: CNNKitError.self) { _ = try Tensor(npyData: long) }
        var version = long
        version[6] = 9
        #expect(throws: CNNKitError.self) { _ = try Tensor(npyData: version) }
        #expect(throws: CNNKitError.self) { _ = try Tensor(npyData: Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 1])) }
        // Headers numpy writes with double quotes, extra keys, Python 2 longs and spacing variations parse.
        let variant = Self.npy(header: "{\"shape\":(2L,) ,\"descr\":\"<f4\", \"fortran_order\" : True}", payload: 8)
        #expect(try Tensor(npyData: variant).shape == [2])
    }

    /// Every prefix and many single-byte corruptions of real files throw or decode, never trap.
    @Test func corruptedFilesNeverTrap() throws {
        var generator = SystemRandomNumberGenerator()
        for name in ["f8-big-fortran.npy", "f4-v2.npy", "u1.npy"] {
            let original = try Data(contentsOf: Self.fixture(name))
            for length in 0..<original.count where length < 200 || length % 17 == 0 {
                #expect(throws: CNNKitError.self) { _ = try Tensor(npyData: original.prefix(length)) }
            }
            for _ in 0..<400 {
                var damaged = original
                let position = Int.random(in: 0..<min(damaged.count, 140), using: &generator)
                damaged[position] = UInt8.random(in: 0...255, using: &generator)
                _ = try? Tensor(npyData: damaged)
                _ = try? IndexTensor(npyData: damaged)
            }
        }
    }
}
