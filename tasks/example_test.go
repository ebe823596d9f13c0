package tasks_test

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/hytm/hytm/hybrid"
	"github.com/hytm/hytm/tasks"
)

// The talk's first example: apply interest to every account, one task per
// account, and check the parallel result against the serial loop.
func Example() {
	const n = 1000
	accounts := make([]*hybrid.Var[int], n)
	serial := make([]int, n)
	for i := range accounts {
		accounts[i] = hybrid.NewVar(1000 + i)
		serial[i] = (1000 + i) * 103 / 100
	}
	p := tasks.New(tasks.Workers(2))
	for _, acct := range accounts {
		p.Add(func(tx *hybrid.Tx) error {
			acct.Store(tx, acct.Load(tx)*103/100)
			return nil
		})
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	same := true
	for i, acct := range accounts {
		same = same && acct.Peek() == serial[i]
	}
	fmt.Println("equal to the serial loop:", same)
	// Output: equal to the serial loop: true
}

// Ordered mode: x = x*31 + i depends on the order of every update, yet the
// tasks, run in parallel, give the serial loop's value, and the log lists
// them in the order added, with the task that task 2 added last.
func ExampleOrdered() {
	x := hybrid.NewVar(1)
	log := hybrid.NewVar("")
	p := tasks.New(tasks.Ordered(), tasks.Workers(2))
	step := func(i int) func(tx *hybrid.Tx) error {
		return func(tx *hybrid.Tx) error {
			x.Store(tx, x.Load(tx)*31+i)
			log.Store(tx, log.Load(tx)+fmt.Sprint(" ", i))
			return nil
		}
	}
	for i := range 5 {
		p.Add(func(tx *hybrid.Tx) error {
			if i == 2 {
				p.Add(step(100)) // joins the pool when this task commits
			}
			return step(i)(tx)
		})
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	want := 1
	for _, i := range []int{0, 1, 2, 3, 4, 100} {
		want = want*31 + i
	}
	fmt.Println("order:", log.Peek())
	fmt.Println("equal to the serial loop:", x.Peek() == want)
	// Output:
	// order:  0 1 2 3 4 100
	// equal to the serial loop: true
}

// The talk's reactor: a line-protocol server ("INCR key", "GET key") on
// 127.0.0.1 whose handlers run as transactions on two workers, sharing one
// transactional table, and reply from commit hooks. The example starts the
// server, talks to it from three clients, and shuts everything down within
// a bounded time.
func ExampleDispatcher() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The shared state, and the handler: written as if single-threaded.
	table := hybrid.NewVar(map[string]int{})
	type request struct {
		line  string
		reply chan<- string
	}
	handle := func(tx *hybrid.Tx, r request) error {
		var out string
		switch cmd, key, _ := strings.Cut(r.line, " "); cmd {
		case "INCR":
			m := maps.Clone(table.Load(tx)) // stored values are immutable
			m[key]++
			table.Store(tx, m)
			out = fmt.Sprint(m[key])
		case "GET":
			out = fmt.Sprint(table.Load(tx)[key])
		default:
			out = "ERR unknown command " + cmd
		}
		tx.AfterCommit(func() { r.reply <- out }) // once, after the commit
		return nil
	}

	// The server: each connection's lines become events.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	stopListening := context.AfterFunc(ctx, func() { ln.Close() })
	defer stopListening()
	events := make(chan request)
	var conns sync.WaitGroup
	go func() {
		defer close(events) // after the last connection: Serve sees io.EOF
		defer conns.Wait()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener was closed
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer c.Close()
				reply := make(chan string, 1)
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					events <- request{sc.Text(), reply}
					fmt.Fprintln(c, <-reply)
				}
			}()
		}
	}()
	served := make(chan error, 1)
	d := tasks.NewDispatcher(handle, tasks.Workers(2))
	go func() { served <- d.Serve(ctx, tasks.FromChannel(events)) }()

	// The clients.
	ask := func(c net.Conn, r *bufio.Reader, line string) string {
		fmt.Fprintln(c, line)
		s, _ := r.ReadString('\n')
		return strings.TrimSpace(s)
	}
	var wg sync.WaitGroup
	for range 2 { // two clients increment concurrently
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			for range 50 {
				ask(c, r, "INCR hits")
			}
		}()
	}
	wg.Wait()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	r := bufio.NewReader(c)
	for _, line := range []string{"GET hits", "INCR a", "INCR a", "GET b", "PING"} {
		fmt.Printf("%s -> %s\n", line, ask(c, r, line))
	}
	c.Close()

	ln.Close() // shut down: no new connection; events closes after the last one
	fmt.Println("served:", <-served)
	// Output:
	// GET hits -> 100
	// INCR a -> 1
	// INCR a -> 2
	// GET b -> 0
	// PING -> ERR unknown command PING
	// served: <nil>
}
