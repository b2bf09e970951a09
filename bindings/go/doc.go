// Package nativeroute binds libnativeroute (libnativeroute.so.1, found with
// pkg-config) for Go programs: a Client of a running nativerouted daemon,
// and the in-process Controller for orchestrators that embed the routing
// control plane. It uses cgo and the standard library only.
//
// # Threads and goroutines
//
// The library is asynchronous and single-threaded: it runs on a libuv loop
// and is called from that loop's thread only. Each Client and Controller
// owns such a loop, run by one goroutine locked to its OS thread
// (runtime.LockOSThread) for the object's lifetime. Methods may be called
// from any number of goroutines at once: they queue their request to the
// loop thread, wake it (uv_async_send, the one thread-safe libuv call), and
// wait for the answer.
//
// # Contexts
//
// Every call takes a context.Context. When it is cancelled or its deadline
// passes, the call returns ctx.Err() at once; a request already sent may
// still be applied by the daemon (read the state again), its answer is
// dropped. The client's own per-call timeout (ClientOptions.Timeout) is
// enforced by the library as well.
//
// # Errors
//
// Failures are *Error values carrying the errno of the C API, its name
// ("ENOSPC") and the daemon's message naming the offending value. *Error
// unwraps to its syscall.Errno, so errors.Is(err, syscall.ENOSPC) works,
// and errors.As(err, &nrErr) gives the details.
package nativeroute
