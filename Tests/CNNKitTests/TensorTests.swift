import Testing
@testable import CNNKit

@Test func npyRoundTrip() throws {
    let t = try Tensor(shape: [1, 2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let back = try Tensor(npyData: t.npyData())
    #expect(back == t)
}
