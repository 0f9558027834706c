package gearman_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// threeServers starts three job servers and returns them with the list a
// Client is given.
func threeServers(t *testing.T) ([]*gearmantest.Server, string) {
	t.Helper()
	var srvs []*gearmantest.Server
	var addrs []string
	for i := range 3 {
		// Each issues handles of its own: on one host, gearmand's default
		// handles (H:host:N) would be the same on every server.
		s := gearmantest.NewServer(t, gearmantest.WithArgs(fmt.Sprintf("--job-handle-prefix=S%d", i)))
		srvs = append(srvs, s)
		addrs = append(addrs, s.Addr())
	}
	return srvs, strings.Join(addrs, ",")
}

// queued returns how many jobs of function each server holds.
func queued(t *testing.T, srvs []*gearmantest.Server, function string) []int {
	t.Helper()
	counts := make([]int, len(srvs))
	for i, s := range srvs {
		total, _, _, ok := fltStatus(s.Addr(), function)
		require.True(t, ok, "status of %s", s.Addr())
		counts[i] = total
	}
	return counts
}

// submitAll runs n background submissions of function from goroutines
// goroutines on c, and returns their handles and errors.
func submitAll(c *gearman.Client, goroutines, n int, function, unique string) (handles []string, errs []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var next atomic.Int64
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				h, err := c.DoBackground(function, []byte("x"), unique)
				mu.Lock()
				handles, errs = append(handles, h), append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return handles, errs
}

func requireNoErrors(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

// TestServersSpreadJobsWithoutUniqueKey: 3 000 background jobs without a
// unique key from one Client with three servers leave each server between
// 20% and 46% of them.
func TestServersSpreadJobsWithoutUniqueKey(t *testing.T) {
	srvs, list := threeServers(t)
	c := fltClient(t, list)
	_, errs := submitAll(c, 8, 3000, "spread", "")
	requireNoErrors(t, errs)
	counts := queued(t, srvs, "spread")
	require.Equal(t, 3000, counts[0]+counts[1]+counts[2], "jobs held: %v", counts)
	for i, n := range counts {
		require.True(t, n >= 600 && n <= 1380, "server %d holds %d of 3000 jobs (%v)", i, n, counts)
	}
}

// TestServersSpreadJobsByUniqueKey: 3 000 background jobs, each with a
// unique key of its own, leave each of three servers between 20% and 46% of
// them: the hash of the key spreads them as evenly as taking turns does.
// Three servers are started five times over, as the hash's evenness depends
// on their addresses.
func TestServersSpreadJobsByUniqueKey(t *testing.T) {
	for round := range 5 {
		srvs, list := threeServers(t)
		c := fltClient(t, list)
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 3000)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1); i <= 3000; i = next.Add(1) {
					_, err := c.DoBackground("spread-key", []byte("x"), fmt.Sprintf("key-%d-%d", round, i))
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		counts := queued(t, srvs, "spread-key")
		require.Equal(t, 3000, counts[0]+counts[1]+counts[2], "round %d: jobs held: %v", round, counts)
		for i, n := range counts {
			require.True(t, n >= 600 && n <= 1380, "round %d: server %d holds %d of 3000 jobs (%v)", round, i, n, counts)
		}
	}
}

// TestServersUniqueKeyMakesOneJob: 30 submissions with one unique key, from
// two Clients given the servers in different orders, make one job on one
// server, which JobStatusByUniqueKey finds.
func TestServersUniqueKeyMakesOneJob(t *testing.T) {
	srvs, list := threeServers(t)
	c := fltClient(t, list)
	reversed := fltClient(t, srvs[2].Addr()+","+srvs[1].Addr()+","+srvs[0].Addr())
	_, errs := submitAll(c, 15, 15, "coalesce", "one-key")
	_, errs2 := submitAll(reversed, 15, 15, "coalesce", "one-key")
	requireNoErrors(t, append(errs, errs2...))
	counts := queued(t, srvs, "coalesce")
	holders := 0
	for _, n := range counts {
		require.LessOrEqual(t, n, 1, "jobs per server: %v", counts)
		holders += n
	}
	require.Equal(t, 1, holders, "jobs per server: %v", counts)
	for _, cl := range []*gearman.Client{c, reversed} {
		st, err := cl.JobStatusByUniqueKey("one-key")
		require.NoError(t, err)
		require.True(t, st.Known, "JobStatusByUniqueKey finds the job")
	}
}

// TestServersJobStatusOfEveryHandle: every handle of jobs spread over three
// servers, each issuing handles of its own, is known to JobStatus, from the
// Client that submitted them (which asks the issuing server) and from one
// that did not (which asks each server in turn).
func TestServersJobStatusOfEveryHandle(t *testing.T) {
	srvs, list := threeServers(t)
	c := fltClient(t, list)
	handles, errs := submitAll(c, 4, 60, "status-of", "")
	requireNoErrors(t, errs)
	for _, n := range queued(t, srvs, "status-of") {
		require.Positive(t, n, "every server holds some of the jobs")
	}
	other := fltClient(t, list)
	for _, cl := range []*gearman.Client{c, other} {
		for _, h := range handles {
			st, err := cl.JobStatus(h)
			require.NoError(t, err)
			require.True(t, st.Known, "JobStatus(%s)", h)
		}
	}
	st, err := c.JobStatus("H:nowhere:1")
	require.NoError(t, err)
	require.False(t, st.Known, "a handle no server issued")
}

// TestServersKillOneDuringSubmissions: kill -9 of one of three servers while
// 8 goroutines submit 2 000 background jobs: no call takes over 5 s, at least
// 95% succeed, and the server, once restarted, gets at least 10% of the new
// jobs within 5 s.
func TestServersKillOneDuringSubmissions(t *testing.T) {
	const total, goroutines = 2000, 8
	srvs, list := threeServers(t)
	c := fltClient(t, list)
	victim := srvs[1]

	var done, failed atomic.Int64
	var slowest atomic.Int64
	var wg sync.WaitGroup
	var next atomic.Int64
	killed := make(chan struct{})
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= total; i = next.Add(1) {
				if i > total/2 {
					<-killed // the second half goes out after the kill
				}
				began := time.Now()
				_, err := c.DoBackground("kill-one", []byte("x"), "")
				if d := int64(time.Since(began)); d > slowest.Load() {
					slowest.Store(d)
				}
				if err != nil {
					failed.Add(1)
				}
				done.Add(1)
			}
		}()
	}
	require.True(t, eventually(concurrencyLimit, func() bool { return done.Load() >= total/4 }), "a quarter submitted")
	victim.Kill()
	close(killed)
	wg.Wait()
	t.Logf("%d of %d failed; slowest call %v", failed.Load(), total, time.Duration(slowest.Load()))
	require.LessOrEqual(t, failed.Load(), int64(total/20), "at least 95%% succeed")
	require.Less(t, time.Duration(slowest.Load()), 5*time.Second, "no call takes over 5 s")

	victim.Restart()
	restarted := time.Now()
	sent := 0
	for {
		_, errs := submitAll(c, goroutines, 100, "after-restart", "")
		requireNoErrors(t, errs)
		sent += len(errs)
		got := queued(t, srvs[1:2], "after-restart")[0]
		if got*10 >= sent {
			t.Logf("the restarted server got %d of %d jobs after %v", got, sent, time.Since(restarted))
			break
		}
		require.Less(t, time.Since(restarted), 5*time.Second,
			fmt.Sprintf("the restarted server gets 10%% of new jobs within 5 s (%d of %d)", got, sent))
	}
}
