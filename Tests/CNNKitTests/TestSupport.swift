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
