//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// holdJournal takes an exclusive flock on a run's journal for as long as the
// run lives, so that another patrol can tell a run that is still going from
// one that died without an end record. The kernel releases the lock when
// the process ends, however it ends.
func holdJournal(path string) (release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// journalInUse reports whether a live patrol process holds the journal.
func journalInUse(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	return errors.Is(err, syscall.EWOULDBLOCK)
}
