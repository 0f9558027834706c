package gearman

import (
	"hash/fnv"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// serverPool spreads a Client's blocking jobs over its job servers. A Client
// with several servers has one driver per server, each with a libgearman
// object that knows that server alone: libgearman 1.1.20 would send every
// job to one of them and cannot move a job to another. A job with a unique
// key goes to the server that a stable hash of the key picks (rendezvous
// hashing: every client with the same servers agrees), so that gearmand can
// coalesce it and JobStatusByUniqueKey finds it; the others take turns. A
// server whose connection failed is skipped until a probe connects to it
// again. A Client with one server, or none (GEARMAN_SERVERS), has a single
// driver with the servers as given.
type serverPool struct {
	mu      sync.Mutex
	single  *clientDriver // the driver when eps is nil
	eps     []endpoint    // several servers, in the order added; nil: one
	drivers map[endpoint]*clientDriver
	down    map[endpoint]*serverDown
	closed  bool

	// Status lookups have drivers of their own: libgearman 1.1.20 counts a
	// GET_STATUS_UNIQUE as a job submission, so a job submitted after one on
	// the same connection would never see its JOB_CREATED matched.
	statusSingle  *clientDriver
	statusDrivers map[endpoint]*clientDriver

	// Which server issued the handles of recent background jobs, for
	// JobStatus; the oldest is forgotten first.
	issuer  map[string]endpoint
	handles []string // a ring of issuer's keys
	oldest  int

	turns  atomic.Uint64  // the round of jobs without a unique key
	probes sync.WaitGroup // probes in progress, which close waits for

	pings   map[*fdWaiter]struct{} // the waits of Pings in progress (ping.go)
	pinging sync.WaitGroup
}

// serverDown is what the pool knows of a server whose connection failed.
type serverDown struct {
	probedAt time.Time
	probing  bool
}

// probeEvery is how often a server found down is probed while jobs come.
const probeEvery = 250 * time.Millisecond

// rememberHandles is how many background jobs' servers the pool keeps.
const rememberHandles = 1 << 16

func newServerPool() *serverPool {
	return &serverPool{
		single: newClientDriver(nil), drivers: map[endpoint]*clientDriver{},
		statusSingle: newClientDriver(nil), statusDrivers: map[endpoint]*clientDriver{},
		down: map[endpoint]*serverDown{}, issuer: map[string]endpoint{},
	}
}

// setServers takes the Client's servers after one was added: with several,
// each gets a driver of its own.
func (p *serverPool) setServers(eps []endpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var distinct []endpoint
	for _, ep := range eps {
		if !slices.Contains(distinct, ep) {
			distinct = append(distinct, ep)
		}
	}
	if len(distinct) < 2 {
		p.eps = nil
		return
	}
	p.eps = distinct
	for _, ep := range distinct {
		if p.drivers[ep] == nil {
			p.drivers[ep] = newClientDriver(&ep)
			p.statusDrivers[ep] = newClientDriver(&ep)
		}
	}
}

// remember notes that ep issued a job handle: a background job submitted
// there, or a handle JobStatus found there.
func (p *serverPool) remember(handle string, ep endpoint) {
	if handle == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.issuer[handle]; !ok {
		if len(p.handles) < rememberHandles {
			p.handles = append(p.handles, handle)
		} else {
			delete(p.issuer, p.handles[p.oldest])
			p.handles[p.oldest] = handle
			p.oldest = (p.oldest + 1) % rememberHandles
		}
	}
	p.issuer[handle] = ep
}

// statusOrder lists the status drivers to ask about a job, in turn: the
// server that issued the handle, or that the unique key hashes to, first.
func (p *serverPool) statusOrder(kind taskKind, key string) []*clientDriver {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eps == nil {
		return []*clientDriver{p.statusSingle}
	}
	first, ok := p.issuer[key]
	if kind == kindStatusUnique {
		first, ok = rendezvous(p.eps, key), true
	}
	order := make([]*clientDriver, 0, len(p.eps))
	if ok {
		order = append(order, p.statusDrivers[first])
	}
	for _, ep := range p.eps {
		if !ok || ep != first {
			order = append(order, p.statusDrivers[ep])
		}
	}
	return order
}

// pick returns the driver for jc's next submission, among the servers jc has
// not tried, and records the choice; nil when jc has tried them all.
func (p *serverPool) pick(jc *jobCall) *clientDriver {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eps == nil {
		if len(jc.tried) > 1 { // one resubmission on a fresh object
			return nil
		}
		jc.tried = append(jc.tried, endpoint{})
		return p.single
	}
	ep, ok := p.chooseLocked(jc.req, jc.tried)
	if !ok {
		return nil
	}
	jc.tried = append(jc.tried, ep)
	return p.drivers[ep]
}

// choose returns the server for a submission of req among several, leaving
// out those it tried; false when it tried them all or the Client has one.
func (p *serverPool) choose(req taskRequest, tried []endpoint) (endpoint, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eps == nil {
		return endpoint{}, false
	}
	return p.chooseLocked(req, tried)
}

// chooseLocked is choose with p.mu held: a live server that the unique key
// hashes to, or that issued a status request's handle, or the next in turn.
func (p *serverPool) chooseLocked(req taskRequest, tried []endpoint) (endpoint, bool) {
	// On the stack for any usual number of servers: this runs for every job.
	var untriedBuf, upBuf [8]endpoint
	untried, up := untriedBuf[:0], upBuf[:0]
	for _, ep := range p.eps {
		if slices.Contains(tried, ep) {
			continue
		}
		untried = append(untried, ep)
		if p.isUp(ep) {
			up = append(up, ep)
		}
	}
	if len(untried) == 0 {
		return endpoint{}, false
	}
	from := up
	if len(from) == 0 {
		from = untried // all down: try anyway, and fail with libgearman's error
	}
	if req.kind == kindStatus {
		if ep, ok := p.issuer[req.key]; ok && slices.Contains(from, ep) {
			return ep, true
		}
	}
	if key := req.unique; key != "" {
		return rendezvous(from, key), true
	}
	return from[p.turns.Add(1)%uint64(len(from))], true
}

// several reports whether the Client has several servers, each of which
// gets its share of the jobs.
func (p *serverPool) several() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.eps != nil
}

// isUp reports whether ep takes jobs, and starts a probe of a server found
// down if none ran lately. p.mu is held.
func (p *serverPool) isUp(ep endpoint) bool {
	dn := p.down[ep]
	if dn == nil {
		return true
	}
	if !dn.probing && !p.closed && time.Since(dn.probedAt) >= probeEvery {
		dn.probing = true
		p.probes.Add(1)
		go p.probe(ep, dn)
	}
	return false
}

// probe connects to a server found down, and takes it back once it answers.
func (p *serverPool) probe(ep endpoint, dn *serverDown) {
	defer p.probes.Done()
	conn, err := net.DialTimeout("tcp", ep.addr(), probeTimeout)
	if err == nil {
		conn.Close()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	dn.probing, dn.probedAt = false, time.Now()
	if err == nil && p.down[ep] == dn {
		delete(p.down, ep)
	}
}

// markDown notes that ep's connection failed: jobs skip it from now on.
func (p *serverPool) markDown(ep *endpoint) {
	if ep == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down[*ep] == nil {
		p.down[*ep] = &serverDown{probedAt: time.Now()}
	}
}

// rendezvous returns the server of eps whose hash with key is highest.
// FNV-1a alone mixes its last bytes too little for that comparison: the
// servers' hashes of the same key keep much of their order, and one server
// of three got a tenth of the keys. The finalizer of MurmurHash3 mixes every
// bit into every other first.
func rendezvous(eps []endpoint, key string) endpoint {
	var best endpoint
	var top uint64
	for i, ep := range eps {
		h := fnv.New64a()
		h.Write([]byte(ep.addr()))
		h.Write([]byte{0})
		h.Write([]byte(key))
		if s := mix64(h.Sum64()); i == 0 || s > top {
			best, top = ep, s
		}
	}
	return best
}

// mix64 is MurmurHash3's 64-bit finalizer.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// all returns every driver.
func (p *serverPool) all() []*clientDriver {
	p.mu.Lock()
	defer p.mu.Unlock()
	ds := []*clientDriver{p.single, p.statusSingle}
	for _, d := range p.drivers {
		ds = append(ds, d)
	}
	for _, d := range p.statusDrivers {
		ds = append(ds, d)
	}
	return ds
}

// close fails every call and ends every driver and probe (Client.Close).
func (p *serverPool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	for _, d := range p.all() {
		d.close()
	}
	p.stopPings()
	p.probes.Wait()
}

// free closes the drivers' own descriptors, for a Client dropped without
// Close.
func (p *serverPool) free() {
	for _, d := range p.all() {
		d.free()
	}
}
