import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the tool does on SIGINT, SIGTERM and SIGHUP: finish or undo the one output file being written (no partial
/// or temporary file is ever left), print one line and exit with status 128 + the signal number (130, 143, 129).
///
/// The signal handler only writes the signal number to a pipe (`write(2)` is async-signal-safe; blocking the signals
/// and `sigwait` would miss threads that libraries start before `main`, e.g. OpenBLAS's); a thread reading the pipe
/// does the rest as ordinary code. A signal the tool was started with ignored (e.g. SIGINT of a background job
/// of a non-interactive shell) stays ignored.
enum Interrupts {
    /// The signals handled, with their names.
    static let handled: [(number: Int32, name: String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")]

    /// The write end of the pipe from the signal handler to the thread that stops the run (-1 until installed).
    nonisolated(unsafe) static var pipeInput: Int32 = -1

    /// Installs the handlers and starts the thread that acts on them; call first in `main`.
    /// SIGPIPE is ignored: a closed standard output or error is seen by ``Console`` as EPIPE, which stops the run the
    /// same way (status 141) instead of killing the process in the middle of writing a file.
    static func install() {
        signal(SIGPIPE, SIG_IGN)
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }  // no pipe: the default actions stay (nothing is worse than before)
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        pipeInput = ends[1]
        let output = ends[0]
        Thread.detachNewThread {
            while true {
                var number: UInt8 = 0
                let count = read(output, &number, 1)
                if count == 1 { stop(signal: Int32(number)) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return }
            }
        }
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for (number, _) in handled {
            var current = sigaction()
            sigaction(number, nil, &current)
            if unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            sigaddset(&unblock, number)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(Interrupts.pipeInput, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
        // A blocked mask is inherited through exec (Foundation's Process starts children with almost every signal
        // blocked): unblocked here, so that the threads started from now on receive them.
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    private static let stopping = NSLock()

    /// Waits until no output file is being written, then exits with status 128 + `number` (never returns). The first
    /// signal wins; a second one (Ctrl-C twice) waits for it. SIGPIPE exits silently, as its default action does.
    static func stop(signal number: Int32) -> Never {
        stopping.lock()  // never unlocked: the process exits
        OutputGate.shared.close()
        if number != SIGPIPE {
            let name = handled.first { $0.number == number }?.name ?? "signal \(number)"
            // Not through Console's lock: a thread stopped on EPIPE may hold it.
            let clear = Console.stderrIsTerminal ? "\r\u{1B}[K" : ""
            Console.rawWrite("\(clear)cnnkit: interrupted by \(name); outputs already written are complete, no partial or temporary file is left\n",
                             to: STDERR_FILENO, stopOnClosedPipe: false)
        }
        _exit(128 + number)
    }
}

/// Every output file is written inside ``write(_:)``; ``close()`` waits for the one being written (its temporary file
/// renamed into place or removed) and lets no other start, so that the process can then exit leaving no temporary
/// file behind.
final class OutputGate: @unchecked Sendable {
    static let shared = OutputGate()

    private let condition = NSCondition()
    private var writing = 0
    private var closed = false

    /// Runs `body` (which writes one output file completely or not at all); once the gate is closed it blocks until
    /// the process exits.
    func write<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        while closed { condition.wait() }
        writing += 1
        condition.unlock()
        defer {
            condition.lock()
            writing -= 1
            condition.broadcast()
            condition.unlock()
        }
        return try body()
    }

    /// Lets no new write start and waits for the writes in progress.
    func close() {
        condition.lock()
        closed = true
        while writing > 0 { condition.wait() }
        condition.unlock()
    }
}
