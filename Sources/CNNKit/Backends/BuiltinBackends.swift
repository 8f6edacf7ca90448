extension BackendRegistry {
    /// The backends CNNKit ships, in dispatch order: fastest first, the reference backend last.
    /// Adding a backend is one folder under `Backends/` and one entry here.
    public static let builtinBackends: [any Backend] = [
        CBackend(),
        ReferenceBackend(),
    ]
}
