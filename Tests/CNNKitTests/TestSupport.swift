import Foundation
import Testing
import CNNKit
@_exported import CNNKitTestSupport

/// Every registered backend name; definition tests run on each of them.
let allBackends = BackendRegistry.shared.names

/// Asserts `body` throws a ``CNNKitError`` whose parameter is `parameter`.
func expectError(parameter: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a CNNKitError naming \(parameter), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as CNNKitError {
        #expect(error.parameter == parameter, "error was: \(error)", sourceLocation: sourceLocation)
        #expect(!error.description.isEmpty, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a CNNKitError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// A fixture folder of library-generated cases: `Tests/CNNKitTests/Fixtures/<name>/manifest.json` holding
/// `{"cases": [...]}` (written by the folder's generate.py).
struct FixtureFolder {
    let root: URL

    init(_ name: String) {
        root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    }

    /// The manifest's cases; empty when it cannot be read (the suites' `fixturesArePresent` tests then fail).
    func cases<Case: Decodable>(_: Case.Type = Case.self) -> [Case] {
        guard let data = try? Data(contentsOf: root.appendingPathComponent("manifest.json")),
              let manifest = try? JSONDecoder().decode(FixtureManifest<Case>.self, from: data) else { return [] }
        return manifest.cases
    }

    func tensor(_ file: String) throws -> Tensor { try Tensor(npyFile: root.appendingPathComponent(file)) }
}

private struct FixtureManifest<Case: Decodable>: Decodable { let cases: [Case] }
