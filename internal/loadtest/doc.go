// Package loadtest drives a Parley server through its public API and
// measures it: messages accepted per second, send latency, end-to-end
// delivery latency over the events WebSocket, server memory per open
// WebSocket, and errors by status and code. Every figure comes with the
// ceiling of the same run: the same generator, with the same settings,
// against a trivial net/http handler in this process, so that a noisy
// shared machine still gives a comparable ratio (docs/performance.md).
//
// The server is either running already (Config.URL, loopback only), built
// and started as a child process (Config.Spawn), or started inside this
// process (Config.InProcess) so that CPU, allocation, mutex and block
// profiles can be taken. cmd/parley-load is its command; only that command
// and tests import it.
package loadtest
