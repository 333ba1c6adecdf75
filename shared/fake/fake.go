// Package fake holds in-memory fakes of the use cases' ports (shared/app), as wtf's mock
// package does, so that a use case's rules are tested in milliseconds without the emulators.
//
// The fakes keep the adapters' promises that the use cases rely on: Store writes under the
// same conditions as the DynamoDB store (an address is never reserved twice, a member is
// enrolled once, an INI-PEC change is recorded with the change that makes it, a batch closes
// its Order's sequence), Workflow records which parked steps were resumed or failed, Mailer
// records every message. The DynamoDB store's own tests, on DynamoDB Local, prove the real
// adapter keeps the same promises.
package fake

import (
	"encoding/json"
	"errors"
	"sync"
)

// clone deep-copies a record, so that no caller shares memory with what the fake stores (a
// change function that mutates its argument and then fails must change nothing).
func clone[T any](v *T) *T {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(err)
	}
	return out
}

// Faults makes named methods of a fake fail: the next call of a method fails with the error
// given for it, once (Fail), or every call fails (FailAlways). Methods are named as in their
// interface ("UpdateMailbox", "Send", "Submit").
type Faults struct {
	mu     sync.Mutex
	once   map[string][]error
	always map[string]error
}

// Fail makes the next call of method fail with err (calls queue up: Fail twice fails twice).
func (f *Faults) Fail(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.once == nil {
		f.once = map[string][]error{}
	}
	f.once[method] = append(f.once[method], err)
}

// FailAlways makes every call of method fail with err; nil stops it.
func (f *Faults) FailAlways(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.always == nil {
		f.always = map[string]error{}
	}
	if err == nil {
		delete(f.always, method)
		return
	}
	f.always[method] = err
}

// check returns the error a call of method must fail with, if any.
func (f *Faults) check(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if q := f.once[method]; len(q) > 0 {
		f.once[method] = q[1:]
		return q[0]
	}
	return f.always[method]
}

// ErrInjected is a convenient error for Faults: an adapter that failed.
var ErrInjected = errors.New("fake: injected failure")
