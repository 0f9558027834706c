package gearman

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A caller waiting for the turn gives up when its context ends, gets the
// turn when it is given back, and an ended context never gets it.
func TestTurnWaitsHonourContexts(t *testing.T) {
	tr := newTurn()
	require.NoError(t, tr.take(context.Background()))

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.ErrorIs(t, tr.take(ctx), context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)

	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got <- tr.take(ctx) // waits with a context that can end
	}()
	time.Sleep(20 * time.Millisecond)
	tr.give()
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting caller did not get the turn once it was given back")
	}
	tr.give()

	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	require.ErrorIs(t, tr.take(done), context.Canceled, "an ended context went ahead on a free turn")
}

// Many callers, with and without contexts that can end, take turns without
// two of them ever holding it at once and without a wake-up lost.
func TestTurnUnderContention(t *testing.T) {
	tr := newTurn()
	var holders, total int
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if g%2 == 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			for range 500 {
				if err := tr.take(ctx); err != nil {
					t.Errorf("take: %v", err)
					return
				}
				holders++
				if holders != 1 {
					t.Errorf("%d holders at once", holders)
				}
				total++
				runtime.Gosched() // let the others find the turn taken
				holders--
				tr.give()
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Fatal("callers still waiting after 30 s: a wake-up was lost")
	}
	require.Equal(t, 8*500, total)
}
