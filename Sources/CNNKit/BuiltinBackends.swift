@_exported import CNNKitCBackend
@_exported import CNNKitCore
@_exported import CNNKitReference

extension BackendRegistry {
    /// The backends CNNKit ships, in dispatch order: fastest first, the reference backend last.
    /// Adding a backend is one target under `Sources/` and one entry here.
    public static let builtinBackends: [any Backend] = [
        CBackend(),
        ReferenceBackend(),
    ]

    /// The process-wide registry that CNNKit's plans and operator functions use by default, holding
    /// ``builtinBackends``.
    public static let shared = BackendRegistry(builtinBackends)
}
