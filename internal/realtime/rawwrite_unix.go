//go:build unix

package realtime

import "syscall"

// canWriteNow: publishers may write to idle connections (writeNow).
const canWriteNow = true

// rawWriteFD is one write(2) on a non-blocking socket: 0 and no error
// when its buffer is full.
func rawWriteFD(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Write(int(fd), p)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, nil
		}
		return n, err
	}
}
