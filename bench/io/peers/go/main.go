// Command swarm_io_go is the Go peer of the SwarmRT I/O benchmarks
// (bench/io/README.md) and their load generator.
//
// Servers (each prints "listening <port>" on stdout once it accepts, then
// serves until killed; GOMAXPROCS comes from the environment):
//
//	swarm_io_go http-server [-port N]   net/http, a handler answering "hello, <target>\n"
//	swarm_io_go echo-server [-port N]   net.Listen, one goroutine per connection
//
// Clients (one goroutine per connection; the same client drives every server):
//
//	swarm_io_go echo-client -addr A -conns N -size B -duration D
//	    N connections, each a closed request/response loop: write B bytes,
//	    read B bytes back, check them, record the round trip. Prints
//	    "measuring" and "measured" around the measured window, then
//	    "result msgs=... msgs_per_s=... p50_us=... p99_us=... errors=..."
//	swarm_io_go idle-client -addr A -conns N
//	    N keep-alive HTTP connections, each sends one GET and reads its
//	    answer, then stays open and idle. Prints "ready <n>" once all
//	    are answered, then holds them until stdin is closed.
//
// Both clients raise the soft fd limit to the hard one and connect at most
// dialParallel connections at a time (a listen backlog is finite).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const dialParallel = 256

func fail(format string, args ...interface{}) {
	fmt.Printf("error "+format+"\n", args...)
	os.Exit(1)
}

func listen(port int) net.Listener {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		fail("listen: %v", err)
	}
	fmt.Printf("listening %d\n", l.Addr().(*net.TCPAddr).Port)
	return l
}

// ---------------------------------------------------------------- servers

func httpServer(args []string) {
	fs := flag.NewFlagSet("http-server", flag.ExitOnError)
	port := fs.Int("port", 0, "port (0: any free one)")
	fs.Parse(args)
	l := listen(*port)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := "hello, " + r.RequestURI + "\n"
		hd := w.Header()
		hd["Date"] = nil // no Date header: the three servers answer the same bytes
		hd.Set("Content-Type", "text/plain")
		hd.Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
	})
	err := (&http.Server{Handler: h}).Serve(l)
	fail("serve: %v", err)
}

func echoServer(args []string) {
	fs := flag.NewFlagSet("echo-server", flag.ExitOnError)
	port := fs.Int("port", 0, "port (0: any free one)")
	fs.Parse(args)
	l := listen(*port)
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "accept: %v\n", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}(c)
	}
}

// ---------------------------------------------------------------- clients

func raiseFdLimit() {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}

// dialAll opens n connections to addr, at most dialParallel at a time.
func dialAll(addr string, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	errs := make([]error, n)
	sem := make(chan struct{}, dialParallel)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			conns[i], errs[i] = net.DialTimeout("tcp", addr, 30*time.Second)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, c := range conns {
				if c != nil {
					c.Close()
				}
			}
			return nil, fmt.Errorf("connection %d of %d: %v", i, n, err)
		}
	}
	return conns, nil
}

func echoClient(args []string) {
	fs := flag.NewFlagSet("echo-client", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port")
	nconn := fs.Int("conns", 100, "connections")
	size := fs.Int("size", 64, "message size in bytes")
	dur := fs.Duration("duration", 10*time.Second, "measured time")
	warm := fs.Duration("warmup", 500*time.Millisecond, "time before measuring")
	fs.Parse(args)
	raiseFdLimit()
	conns, err := dialAll(*addr, *nconn)
	if err != nil {
		fail("dial: %v", err)
	}
	var measuring, stop int32
	var errors int64
	var start sync.WaitGroup
	start.Add(1)
	lats := make([][]int64, *nconn) // round trips in ns, while measuring
	counts := make([]int64, *nconn)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func(i int, c net.Conn) {
			defer wg.Done()
			out := make([]byte, *size)
			in := make([]byte, *size)
			for k := range out {
				out[k] = byte(i*7 + k)
			}
			start.Wait()
			var mine []int64
			for seq := 0; atomic.LoadInt32(&stop) == 0; seq++ {
				out[0] = byte(seq)
				t0 := time.Now()
				if _, err := c.Write(out); err != nil {
					atomic.AddInt64(&errors, 1)
					return
				}
				if _, err := io.ReadFull(c, in); err != nil || !bytes.Equal(in, out) {
					atomic.AddInt64(&errors, 1)
					return
				}
				if atomic.LoadInt32(&measuring) == 1 {
					mine = append(mine, int64(time.Since(t0)))
				}
			}
			lats[i] = mine
			counts[i] = int64(len(mine))
		}(i, c)
	}
	start.Done()
	time.Sleep(*warm)
	atomic.StoreInt32(&measuring, 1)
	fmt.Println("measuring") // the runner samples the server's CPU time at these two lines
	t0 := time.Now()
	time.Sleep(*dur)
	atomic.StoreInt32(&measuring, 0)
	elapsed := time.Since(t0)
	fmt.Println("measured")
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	var all []int64
	for _, l := range lats {
		all = append(all, l...)
	}
	if len(all) == 0 {
		fail("no round trip completed (errors=%d)", errors)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	pct := func(p float64) float64 {
		k := int(p * float64(len(all)-1))
		return float64(all[k]) / 1e3
	}
	fmt.Printf("result msgs=%d msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f errors=%d conns=%d size=%d\n",
		len(all), float64(len(all))/elapsed.Seconds(), pct(0.50), pct(0.99),
		float64(all[len(all)-1])/1e3, errors, *nconn, *size)
	if errors != 0 {
		os.Exit(1)
	}
}

func idleClient(args []string) {
	fs := flag.NewFlagSet("idle-client", flag.ExitOnError)
	addr := fs.String("addr", "", "host:port")
	nconn := fs.Int("conns", 10000, "connections")
	fs.Parse(args)
	raiseFdLimit()
	conns, err := dialAll(*addr, *nconn)
	if err != nil {
		fail("dial: %v", err)
	}
	req := []byte("GET /idle HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	want := []byte("HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nhello, /idle\n")
	var bad int64
	sem := make(chan struct{}, dialParallel)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func(c net.Conn) {
			defer wg.Done()
			defer func() { <-sem }()
			got := make([]byte, len(want))
			c.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := c.Write(req); err != nil {
				atomic.AddInt64(&bad, 1)
				return
			}
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
				atomic.AddInt64(&bad, 1)
			}
			c.SetDeadline(time.Time{})
		}(c)
	}
	wg.Wait()
	if bad != 0 {
		fail("%d of %d connections were not answered as expected", bad, len(conns))
	}
	fmt.Printf("ready %d\n", len(conns))
	io.Copy(io.Discard, bufio.NewReader(os.Stdin)) // hold until stdin closes
	for _, c := range conns {
		c.Close()
	}
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: %s http-server|echo-server|echo-client|idle-client [flags]", os.Args[0])
	}
	switch os.Args[1] {
	case "http-server":
		httpServer(os.Args[2:])
	case "echo-server":
		echoServer(os.Args[2:])
	case "echo-client":
		echoClient(os.Args[2:])
	case "idle-client":
		idleClient(os.Args[2:])
	default:
		fail("unknown command %q", os.Args[1])
	}
}
