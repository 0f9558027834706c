package gearman

import (
	"runtime"
	"slices"
	"sync"
)

// freer is anything a Client or Worker must free: a libgearman object, C
// memory, the log sink's handle.
type freer interface{ free() }

// owned lists what a Client or Worker must free. It leads to nothing that
// leads back to its owner, so that runtime.AddCleanup can free it once the
// owner is unreachable without Close, as os.File closes its descriptor.
type owned struct {
	mu   sync.Mutex
	live []freer // in the order acquired; freed newest first
}

// own starts tracking what owner must free, and frees it after GC if the
// owner is dropped without Close.
func own[T any](owner *T, first ...freer) *owned {
	o := &owned{live: first}
	runtime.AddCleanup(owner, (*owned).freeAll, o)
	return o
}

// track adds f, acquired by the owner.
func (o *owned) track(f freer) {
	o.mu.Lock()
	o.live = append(o.live, f)
	o.mu.Unlock()
}

// free frees f now and stops tracking it.
func (o *owned) free(f freer) {
	o.mu.Lock()
	if i := slices.Index(o.live, f); i >= 0 {
		o.live = slices.Delete(o.live, i, i+1)
	}
	o.mu.Unlock()
	f.free()
}

// freeAll frees everything still tracked, newest first: libgearman objects
// before the log sink and the callback set they may still use.
func (o *owned) freeAll() {
	o.mu.Lock()
	live := o.live
	o.live = nil
	o.mu.Unlock()
	for _, f := range slices.Backward(live) {
		f.free()
	}
}
