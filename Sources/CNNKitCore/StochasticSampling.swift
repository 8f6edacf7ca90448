/// The counter-based generator behind stochastic pooling.
///
/// Every window draws one uniform number from `(seed, window)` alone, where `window` is the flat index of the
/// output element (`((n·C + c)·H_out + h)·W_out + w`), so backends, thread counts and schedules agree bit for bit.
/// The bits are SplitMix64's finaliser applied twice: `mix(mix(seed ⊕ 0x6A09E667F3BCC909) + window)`.
public enum StochasticSampling {
    /// SplitMix64 finaliser (Steele, Lea & Flood 2014) of `z + 0x9E3779B97F4A7C15`.
    @inline(__always)
    public static func mix(_ z: UInt64) -> UInt64 {
        var x = z &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    /// A uniform draw in `[0, 1)` with 53 random bits for window `window` under `seed`.
    @inline(__always)
    public static func uniform(seed: UInt64, window: UInt64) -> Double {
        Double(mix(mix(seed ^ 0x6A09_E667_F3BC_C909) &+ window) >> 11) * 0x1.0p-53
    }
}
