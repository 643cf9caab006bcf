// Command swarm_peer_go is the Go peer of the SwarmRT benchmark suite.
//
// It implements every workload of bench/WORKLOADS.md with goroutines and
// channels: a "process" is a goroutine and its mailbox is one buffered
// channel that only it receives from.
//
// Usage:
//
//	swarm_peer_go <workload> <schedulers> <quick|full>
//
// schedulers sets runtime.GOMAXPROCS. The program prints exactly one
// "result ..." line on stdout, or an "error ..." line and exits 1.
//
// Channel capacities (the spec leaves them to each runtime):
//   - request/reply mailboxes (pingpong, timer_churn, ring, fib, skynet,
//     bursts): the most messages that can be in flight to that receiver, so
//     no send blocks;
//   - streaming mailboxes (counting, mailbox): streamCap, which bounds memory
//     the way a Go program would (a sender blocks when the receiver lags);
//   - big: W+2, because every other process may have a ping queued at once
//     and a full channel there would deadlock two processes pinging each other.
//
// spawn is written the way Go programs wait for many goroutines, with no
// channel: a sync.WaitGroup and an atomic sum (spawn_batched keeps a channel).
//
// The channel and mutex workloads of issue 11 (chan_*, mutex_contended) are
// not mailboxes: they use the capacities WORKLOADS.md gives, the same as
// SwarmRT's channels in bench/swarm/swarm_bench.c.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	streamCap  = 1024
	ringSize   = 503
	spawnBatch = 10000
	primeParts = 64
	lcgMul     = 6364136223846793005
	lcgAdd     = 1442695040888963407
)

// params holds one size of a workload; unused fields stay zero.
type params struct {
	n, s, m, w, p, k int64
}

// outcome is what a workload reports; extra keys are printed in order.
type outcome struct {
	checksum int64
	ops      int64
	extra    []string
}

type workload struct {
	name        string
	quick, full params
	run         func(params) (outcome, error)
}

var workloads = []workload{
	{"pingpong", params{n: 100000}, params{n: 1000000}, pingpong},
	{"gs_call", params{n: 100000}, params{n: 1000000}, gsCall},
	{"yield", params{n: 200000}, params{n: 2000000}, yield},
	{"counting", params{n: 1000000}, params{n: 10000000}, counting},
	{"mailbox", params{s: 10, m: 100000}, params{s: 100, m: 100000}, mailbox},
	// Go's channel is bounded already: the same code.
	{"mailbox_bounded", params{s: 10, m: 100000}, params{s: 100, m: 100000}, mailbox},
	{"chan_pingpong", params{n: 300000}, params{n: 3000000}, chanPingpong},
	{"chan_buffered", params{n: 300000}, params{n: 3000000}, chanBuffered},
	{"chan_pipeline", params{m: 500000}, params{m: 5000000}, chanPipeline},
	{"chan_select", params{m: 100000}, params{m: 1000000}, chanSelect},
	{"mutex_contended", params{p: 4, n: 1000000}, params{p: 4, n: 10000000}, mutexContended},
	{"ring", params{n: 1000000}, params{n: 10000000}, ring},
	{"spawn", params{n: 100000}, params{n: 1000000}, spawn},
	{"spawn_batched", params{n: 100000}, params{n: 1000000}, spawnBatched},
	{"skynet", params{n: 100000}, params{n: 1000000}, skynet},
	{"big", params{w: 200, n: 1000}, params{w: 1000, n: 5000}, big},
	{"fib", params{n: 20}, params{n: 27}, fib},
	{"primes", params{n: 2000000}, params{n: 20000000}, primes},
	{"sleepers", params{p: 1000, k: 20}, params{p: 10000, k: 50}, sleepers},
	{"timer_churn", params{n: 100000}, params{n: 1000000}, timerChurn},
	{"parked", params{p: 100000}, params{p: 1000000}, parked},
	{"bursts", params{p: 10000}, params{p: 100000}, bursts},
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: %s <workload> <schedulers> <quick|full>", os.Args[0])
	}
	name, schedArg, size := os.Args[1], os.Args[2], os.Args[3]
	scheds, err := strconv.Atoi(schedArg)
	if err != nil || scheds < 1 {
		fail("bad scheduler count %q", schedArg)
	}
	var wl *workload
	for i := range workloads {
		if workloads[i].name == name {
			wl = &workloads[i]
		}
	}
	if wl == nil {
		fail("unknown workload %q", name)
	}
	var p params
	switch size {
	case "quick":
		p = wl.quick
	case "full":
		p = wl.full
	default:
		fail("bad size %q (quick or full)", size)
	}
	runtime.GOMAXPROCS(scheds)

	cpu0 := cpuNanos()
	t0 := time.Now()
	out, err := wl.run(p)
	wall := time.Since(t0)
	cpu := cpuNanos() - cpu0
	if err != nil {
		fail("workload=%s runtime=go %v", name, err)
	}
	extra := ""
	if len(out.extra) > 0 {
		extra = " " + strings.Join(out.extra, " ")
	}
	fmt.Printf("result workload=%s runtime=go schedulers=%d size=%s checksum=%d wall_ns=%d cpu_ns=%d ops=%d%s\n",
		name, scheds, size, out.checksum, wall.Nanoseconds(), cpu, out.ops, extra)
}

func fail(format string, args ...interface{}) {
	fmt.Printf("error "+format+"\n", args...)
	os.Exit(1)
}

// cpuNanos is the user+system CPU time of this OS process.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes() (int64, error) {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0, fmt.Errorf("malformed /proc/self/statm")
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return 0, err
	}
	return pages * int64(os.Getpagesize()), nil
}

// gs_call: a server goroutine holds a sum; every request carries its own
// reply channel (Go's idiom for a synchronous call). Go has no mailbox for
// the Q unrelated messages of the other runtimes.
type sumRequest struct {
	v     int64
	reply chan int64
}

func gsCall(p params) (outcome, error) {
	requests := make(chan sumRequest)
	go func() {
		var sum int64
		for r := range requests {
			sum += r.v
			r.reply <- sum
		}
	}()
	var last int64
	for i := int64(1); i <= p.n; i++ {
		reply := make(chan int64, 1)
		requests <- sumRequest{i, reply}
		last = <-reply
	}
	close(requests)
	return outcome{checksum: last, ops: p.n}, nil
}

// pingpong: main pings a partner N times and waits for every reply, each
// side's mailbox a channel of one: the same code as chan_buffered.
func pingpong(p params) (outcome, error) { return chanPingpongCap(p, 1) }

// yield: two goroutines each give up the processor N times.
func yield(p params) (outcome, error) {
	done := make(chan int64, 2)
	for g := 0; g < 2; g++ {
		go func() {
			var c int64
			for i := int64(0); i < p.n; i++ {
				runtime.Gosched()
				c++
			}
			done <- c
		}()
	}
	return outcome{checksum: <-done + <-done, ops: 2 * p.n}, nil
}

// counting: main streams 1..N to a counter, then closes the channel to ask
// for the total, which comes back on a reply channel.
func counting(p params) (outcome, error) {
	in := make(chan int64, streamCap)
	reply := make(chan int64, 1)
	go func() {
		var sum int64
		for v := range in {
			sum += v
		}
		reply <- sum
	}()
	for i := int64(1); i <= p.n; i++ {
		in <- i
	}
	close(in)
	return outcome{checksum: <-reply, ops: p.n}, nil
}

// mailbox: S senders stream 1..M each into main's one channel.
func mailbox(p params) (outcome, error) {
	in := make(chan int64, streamCap)
	for s := int64(0); s < p.s; s++ {
		go func() {
			for i := int64(1); i <= p.m; i++ {
				in <- i
			}
		}()
	}
	var sum int64
	for k := p.s * p.m; k > 0; k-- {
		sum += <-in
	}
	return outcome{checksum: sum, ops: p.s * p.m}, nil
}

// ring: 503 goroutines pass a decrementing token; whoever receives 0
// reports its index. Closing a goroutine's channel stops it.
func ring(p params) (outcome, error) {
	var chans [ringSize]chan int64
	for i := range chans {
		chans[i] = make(chan int64, 1)
	}
	done := make(chan int64, 1)
	member := func(index int, in <-chan int64, next chan<- int64) {
		for t := range in {
			if t == 0 {
				done <- int64(index)
			} else {
				next <- t - 1
			}
		}
	}
	for i := 1; i < ringSize; i++ {
		go member(i, chans[i], chans[(i+1)%ringSize])
	}
	go func() { // index 0 is the starter
		chans[1] <- p.n
		member(0, chans[0], chans[1])
	}()
	winner := <-done
	for i := range chans {
		close(chans[i])
	}
	return outcome{checksum: winner, ops: p.n}, nil
}

// spawn: the standard form, one goroutine per child, all N started before
// main waits: each adds its index to a shared atomic sum and marks itself
// done on a WaitGroup.
func spawn(p params) (outcome, error) {
	var wg sync.WaitGroup
	var sum atomic.Int64
	for i := int64(0); i < p.n; i++ {
		wg.Add(1)
		go func(i int64) {
			sum.Add(i)
			wg.Done()
		}(i)
	}
	wg.Wait()
	return outcome{checksum: sum.Load(), ops: p.n}, nil
}

// spawn_batched: N short-lived goroutines, at most spawnBatch outstanding;
// each sends its index on main's channel, which main drains per batch.
func spawnBatched(p params) (outcome, error) {
	in := make(chan int64, spawnBatch)
	var sum int64
	for next := int64(0); next < p.n; {
		last := next + spawnBatch
		if last > p.n {
			last = p.n
		}
		for i := next; i < last; i++ {
			go func(i int64) { in <- i }(i)
		}
		for k := next; k < last; k++ {
			sum += <-in
		}
		next = last
	}
	return outcome{checksum: sum, ops: p.n}, nil
}

func skynetNode(out chan<- int64, num, size int64) {
	if size == 1 {
		out <- num
		return
	}
	sub := size / 10
	in := make(chan int64, 10)
	for k := int64(0); k < 10; k++ {
		go skynetNode(in, num+k*sub, sub)
	}
	var sum int64
	for k := 0; k < 10; k++ {
		sum += <-in
	}
	out <- sum
}

// skynet: a 10-ary tree of goroutines down to p.n leaves.
func skynet(p params) (outcome, error) {
	out := make(chan int64, 1)
	go skynetNode(out, 0, p.n)
	var procs int64
	for l := p.n; l >= 1; l /= 10 {
		procs += l
	}
	return outcome{checksum: <-out, ops: procs}, nil
}

// big: W goroutines ping pseudo-random peers; a ping carries the sender's
// index (>= 0), a pong is -1. Each answers pings while waiting for its pong
// and after it is done, until main closes its channel.
func big(p params) (outcome, error) {
	w := p.w
	chans := make([]chan int64, w)
	for i := range chans {
		chans[i] = make(chan int64, w+2)
	}
	done := make(chan int64, w)
	for i := int64(0); i < w; i++ {
		go func(i int64) {
			in := chans[i]
			x := uint64(i + 1)
			var pongs int64
			for pongs < p.n {
				x = x*lcgMul + lcgAdd
				target := int64((x >> 33) % uint64(w))
				if target == i {
					target = (i + 1) % w
				}
				chans[target] <- i
				for {
					v := <-in
					if v < 0 {
						pongs++
						break
					}
					chans[v] <- -1
				}
			}
			done <- pongs
			for v := range in {
				chans[v] <- -1
			}
		}(i)
	}
	var total int64
	for i := int64(0); i < w; i++ {
		total += <-done
	}
	for i := range chans {
		close(chans[i])
	}
	return outcome{checksum: total, ops: 2 * w * p.n}, nil
}

func fibNode(out chan<- int64, n int64) {
	if n < 2 {
		out <- n
		return
	}
	in := make(chan int64, 2)
	go fibNode(in, n-1)
	go fibNode(in, n-2)
	out <- <-in + <-in
}

// fib: one goroutine per call of the naive fib recursion.
func fib(p params) (outcome, error) {
	out := make(chan int64, 1)
	go fibNode(out, p.n)
	a, b := int64(0), int64(1) // calls in the tree: 2*fib(n+1) - 1
	for i := int64(0); i < p.n+1; i++ {
		a, b = b, a+b
	}
	return outcome{checksum: <-out, ops: 2*a - 1}, nil
}

func isPrime(n int64) bool {
	if n < 2 {
		return false
	}
	if n == 2 {
		return true
	}
	if n%2 == 0 {
		return false
	}
	for d := int64(3); d*d <= n; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// primes: 64 workers count primes in equal slices of [2, L).
func primes(p params) (outcome, error) {
	l := p.n
	out := make(chan int64, primeParts)
	for k := int64(0); k < primeParts; k++ {
		lo := 2 + k*(l-2)/primeParts
		hi := 2 + (k+1)*(l-2)/primeParts
		go func() {
			var c int64
			for n := lo; n < hi; n++ {
				if isPrime(n) {
					c++
				}
			}
			out <- c
		}()
	}
	var count int64
	for k := 0; k < primeParts; k++ {
		count += <-out
	}
	return outcome{checksum: count, ops: l}, nil
}

// sleepers: P goroutines each sleep 10 ms K times.
func sleepers(p params) (outcome, error) {
	out := make(chan int64, streamCap)
	for i := int64(0); i < p.p; i++ {
		go func() {
			var c int64
			for j := int64(0); j < p.k; j++ {
				time.Sleep(10 * time.Millisecond)
				c++
			}
			out <- c
		}()
	}
	var total int64
	for i := int64(0); i < p.p; i++ {
		total += <-out
	}
	return outcome{checksum: total, ops: p.p * p.k}, nil
}

// recvTimeout receives from ch with a one-second timer that is stopped when
// the message arrives first; ok is false when ch is closed.
func recvTimeout(ch <-chan int64) (v int64, ok bool, err error) {
	t := time.NewTimer(time.Second)
	select {
	case v, ok = <-ch:
		t.Stop()
		return v, ok, nil
	case <-t.C:
		return 0, false, fmt.Errorf("receive timed out")
	}
}

// timer_churn: pingpong where every receive arms and cancels a timer.
func timerChurn(p params) (outcome, error) {
	ping := make(chan int64, 1)
	pong := make(chan int64, 1)
	partnerErr := make(chan error, 1)
	go func() {
		for {
			v, ok, err := recvTimeout(ping)
			if err != nil {
				partnerErr <- err
				return
			}
			if !ok {
				return
			}
			pong <- v
		}
	}()
	var count int64
	for i := int64(1); i <= p.n; i++ {
		ping <- i
		v, _, err := recvTimeout(pong)
		if err != nil {
			select {
			case perr := <-partnerErr:
				return outcome{}, perr
			default:
				return outcome{}, err
			}
		}
		if v == i {
			count++
		}
	}
	close(ping)
	return outcome{checksum: count, ops: p.n}, nil
}

// parked: P goroutines block on their own channel; RSS growth per goroutine
// is measured once all are parked, then each gets a stop message.
func parked(p params) (outcome, error) {
	chans := make([]chan int64, p.p)
	before, err := rssBytes()
	if err != nil {
		return outcome{}, err
	}
	var ready, gone sync.WaitGroup
	ready.Add(int(p.p))
	gone.Add(int(p.p))
	for i := range chans {
		ch := make(chan int64, 1)
		chans[i] = ch
		go func() {
			ready.Done()
			<-ch
			gone.Done()
		}()
	}
	ready.Wait()
	after, err := rssBytes()
	if err != nil {
		return outcome{}, err
	}
	for _, ch := range chans {
		ch <- 1
	}
	gone.Wait()
	perProc := (after - before) / p.p
	return outcome{checksum: p.p, ops: p.p, extra: []string{"bytes_per_proc=" + strconv.FormatInt(perProc, 10)}}, nil
}

// bursts: the shape of the workload (rounds, recursion depth, the park
// between rounds) is the same at both sizes; only P changes.
const (
	burstRounds = 3
	burstDepth  = 16
	burstPark   = time.Second
	burstStop   = -1 // on a goroutine's channel: stop (a round number is >= 0)
)

// burst is the recursion each goroutine runs once per round: every level
// fills a 512-byte array on its own stack frame and sums it. buf does not
// escape (go build -gcflags=-m moves nothing of burst to the heap); a frame
// is 560 bytes, so the 16 levels need about 9 KB of goroutine stack, which
// grows to 16 KB. noinline keeps every level a real call with its frame.
//
//go:noinline
func burst(i, r, d int64) int64 {
	if d == 0 {
		return 0
	}
	var buf [512]byte
	base := i + 7*r + 13*d
	for k := range buf {
		buf[k] = byte(base + int64(k))
	}
	var sum int64
	for _, b := range &buf { // &buf: ranging over the array itself would copy it
		sum += int64(b)
	}
	return sum + burst(i, r, d-1)
}

// bursts: P goroutines each run R rounds of burst when main sends them the
// round number on their own channel, and send the result on one shared
// channel (capacity P: a result never blocks its sender). After each round
// main reads RSS at once (burst_mem) and again after a one-second park
// (park_mem): Go only gives a grown stack back when a GC scans it, and a
// park with nobody allocating starts no GC. After the last round every
// goroutine gets burstStop and acknowledges it on the shared channel.
func bursts(p params) (outcome, error) {
	chans := make([]chan int64, p.p)
	results := make(chan int64, p.p)
	before, err := rssBytes()
	if err != nil {
		return outcome{}, err
	}
	for i := range chans {
		ch := make(chan int64, 1)
		chans[i] = ch
		go func(i int64) {
			for k := 0; k < burstRounds; k++ {
				r := <-ch
				results <- burst(i, r, burstDepth)
			}
			<-ch // burstStop
			results <- 0
		}(int64(i))
	}
	var checksum int64
	var burstMem, parkMem [burstRounds]int64
	for r := int64(0); r < burstRounds; r++ {
		for _, ch := range chans {
			ch <- r
		}
		for k := int64(0); k < p.p; k++ {
			checksum += <-results
		}
		if burstMem[r], err = rssBytes(); err != nil {
			return outcome{}, err
		}
		time.Sleep(burstPark)
		if parkMem[r], err = rssBytes(); err != nil {
			return outcome{}, err
		}
	}
	for _, ch := range chans {
		ch <- burstStop
	}
	for k := int64(0); k < p.p; k++ {
		<-results
	}
	last := burstRounds - 1
	return outcome{checksum: checksum, ops: p.p * burstRounds, extra: []string{
		"burst_bytes_per_proc=" + strconv.FormatInt((burstMem[last]-before)/p.p, 10),
		"parked_bytes_per_proc=" + strconv.FormatInt((parkMem[last]-before)/p.p, 10),
	}}, nil
}

// The channel workloads of issue 11: SwarmRT's channels and mutex next to
// the same program with Go's.
const (
	chanBufferedCap = 1 // chan_buffered: a ping-pong has one value in flight
	pipeWorkers     = 4 // chan_pipeline: producers, and consumers
	pipeCap         = 1024
	selectSenders   = 4
)

// chanPingpongCap: main sends i on ping, the partner echoes it on pong.
func chanPingpongCap(p params, capacity int) (outcome, error) {
	ping := make(chan int64, capacity)
	pong := make(chan int64, capacity)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	var count int64
	for i := int64(1); i <= p.n; i++ {
		ping <- i
		if <-pong == i {
			count++
		}
	}
	close(ping)
	return outcome{checksum: count, ops: p.n}, nil
}

// chan_pingpong: two unbuffered (rendezvous) channels.
func chanPingpong(p params) (outcome, error) { return chanPingpongCap(p, 0) }

// chan_buffered: two channels of capacity chanBufferedCap.
func chanBuffered(p params) (outcome, error) { return chanPingpongCap(p, chanBufferedCap) }

// chan_pipeline: producer k sends k*M+1 .. k*M+M into one buffered
// channel; consumers sum until it is closed (after every producer is done).
func chanPipeline(p params) (outcome, error) {
	ch := make(chan int64, pipeCap)
	sums := make(chan int64, pipeWorkers)
	for c := 0; c < pipeWorkers; c++ {
		go func() {
			var sum int64
			for v := range ch {
				sum += v
			}
			sums <- sum
		}()
	}
	var producers sync.WaitGroup
	producers.Add(pipeWorkers)
	for k := int64(0); k < pipeWorkers; k++ {
		go func(first int64) {
			for i := int64(0); i < p.m; i++ {
				ch <- first + i
			}
			producers.Done()
		}(k*p.m + 1)
	}
	producers.Wait()
	close(ch)
	var total int64
	for c := 0; c < pipeWorkers; c++ {
		total += <-sums
	}
	return outcome{checksum: total, ops: pipeWorkers * p.m}, nil
}

// chan_select: sender k sends k*M+1 .. k*M+M on its own unbuffered
// channel; main selects over the four, 4*M times.
func chanSelect(p params) (outcome, error) {
	var chans [selectSenders]chan int64
	for k := range chans {
		ch := make(chan int64)
		chans[k] = ch
		go func(first int64) {
			for i := int64(0); i < p.m; i++ {
				ch <- first + i
			}
		}(int64(k)*p.m + 1)
	}
	var sum int64
	for i := int64(0); i < selectSenders*p.m; i++ {
		select {
		case v := <-chans[0]:
			sum += v
		case v := <-chans[1]:
			sum += v
		case v := <-chans[2]:
			sum += v
		case v := <-chans[3]:
			sum += v
		}
	}
	return outcome{checksum: sum, ops: selectSenders * p.m}, nil
}

// mutex_contended: P goroutines share N increments of one counter, each
// under a sync.Mutex.
func mutexContended(p params) (outcome, error) {
	var mu sync.Mutex
	var counter int64
	var wg sync.WaitGroup
	wg.Add(int(p.p))
	for k := int64(0); k < p.p; k++ {
		n := p.n / p.p
		if k < p.n%p.p {
			n++
		}
		go func(n int64) {
			for i := int64(0); i < n; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}(n)
	}
	wg.Wait()
	return outcome{checksum: counter, ops: p.n}, nil
}
