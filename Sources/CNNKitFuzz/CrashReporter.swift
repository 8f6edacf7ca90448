import Foundation

/// Names the case that crashed or hung. The state lives in raw memory written with relaxed stores, so that the
/// signal handler (async-signal-safe: `write` and `_exit` only) and the watchdog thread can read it.
enum CrashReporter {
    nonisolated(unsafe) static let state: UnsafeMutablePointer<Int> = {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        p.initialize(repeating: -1, count: 4)
        return p
    }()
    // state[0]: current case, state[1]: backend position (0 = reference), state[2]: seed, state[3]: progress counter

    static func enter(_ index: Int, backend: Int) {
        state[0] = index
        state[1] = backend
        state[3] &+= 1
    }

    static func install(seed: UInt64) {
        state[2] = Int(truncatingIfNeeded: seed)
        state[3] = 0
        for signal in [SIGSEGV, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE] {
            Foundation.signal(signal) { number in
                CrashReporter.emit("CNNKitFuzz: CRASH (signal ", number, ") in case ", CrashReporter.state[0],
                                   " on backend #", CrashReporter.state[1], " (0 = reference), seed ", CrashReporter.state[2],
                                   "; replay with --only <case> <cases> <seed> --verbose\n")
                _exit(128 + number)
            }
        }
        // Watchdog: a case that runs for more than 30 s is a hang.
        let thread = Thread {
            var last = -2, since = Date()
            while true {
                Thread.sleep(forTimeInterval: 1)
                let progress = state[3]
                if progress != last { last = progress; since = Date(); continue }
                if state[0] >= 0 && Date().timeIntervalSince(since) > 30 {
                    emit("CNNKitFuzz: HANG (no progress for 30 s) in case ", state[0], " on backend #", state[1],
                         " (0 = reference), seed ", state[2], "\n")
                    _exit(3)
                }
            }
        }
        thread.start()
    }

    /// Writes text and integers to standard error without allocating.
    static func emit(_ parts: Any...) {
        for part in parts {
            if let number = part as? Int32 { writeNumber(Int(number)) } else if let number = part as? Int { writeNumber(number) } else if let text = part as? StaticString {
                _ = write(2, text.utf8Start, text.utf8CodeUnitCount)
            } else if let text = part as? String {
                var copy = text
                copy.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
            }
        }
    }

    static func writeNumber(_ value: Int) {
        var buffer = [UInt8](repeating: 0, count: 24)
        var n = value.magnitude, i = buffer.count
        repeat { i -= 1; buffer[i] = UInt8(ascii: "0") + UInt8(n % 10); n /= 10 } while n > 0
        if value < 0 { i -= 1; buffer[i] = UInt8(ascii: "-") }
        buffer[i...].withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
    }
}
