// Package tasks gives hytm's programming model from the PyPy-STM talk: the
// illusion of serial execution. Add tasks to a pool and run them all; each
// task runs as its own transaction, on one of several worker goroutines,
// and the result is that of running the tasks one after another.
//
//	p := tasks.New()
//	for _, acct := range accounts {
//		p.Add(func(tx *hybrid.Tx) error {
//			acct.Store(tx, acct.Load(tx)*101/100) // apply interest
//			return nil
//		})
//	}
//	err := p.Run(ctx)
//
// # Serial illusion
//
// In Go memory-model terms: every task that commits is one transaction
// (hybrid.Atomically), so the tasks' effects on Vars are as if the committed
// tasks ran one at a time, each under one global mutex, in some order (the
// order they were added, with [Ordered]); the commit of a task
// synchronizes before every task that observes its Stores, and before Run
// returns. No task sees another's partial effects; no lock appears in user
// code. What the illusion does not cover is what transactions never cover:
// memory outside Vars, and side effects. A task body may run more than once
// (after a conflict, and in ordered mode while it waits for its turn), so it
// must keep to Loads and Stores; I/O goes into a commit hook,
// [stm.Tx.AfterCommit], which runs once, after the commit, outside the
// transaction. Add is itself such a hook when called inside a task: the new
// task joins the pool when, and only if, the adding task commits.
//
// Run returns when every task, including tasks added by tasks, has
// committed or failed. A failed task (an error) rolls back; Run joins the
// errors, each a [*TaskError] carrying the task's index. [StopOnError] stops
// at the first. A panic in a task rolls it back, stops the pool, and is
// raised again by Run on its caller's goroutine as a [*PanicError] that
// carries the task's stack, once every worker has exited. Cancelling the
// context stops the pool the same way.
//
// # Ordered mode
//
// With [Ordered], tasks commit in the order they were added: the final
// state equals the serial loop's exactly,
//
//	for i := 0; i < len(tasks); i++ { atomically(tasks[i]) } // tasks may append to tasks
//
// while bodies still run in parallel. This is speculative parallelization
// on top of the TM. The pool keeps a turn Var: task i may commit only when
// turn == i, and its commit sets turn = i+1 in the same transaction. Each
// task runs its body first, on its own snapshot, and reads the turn last;
// if it is not yet its turn it calls Retry, which discards the attempt and
// waits until the turn changes. The attempt that sees turn == i has a
// snapshot that contains every earlier task's commit and no later one, so
// it computes what the serial loop computes; its commit validates its reads
// as every commit does. An error is decided at the task's turn too, and the
// turn then passes on (unless StopOnError stops the pool).
//
// Tasks that a task adds are appended after every task already added, in
// the order of the adding tasks' commits, which is the order of the adding
// tasks: this is the serial loop above over a list that tasks append to
// (a work list), not a recursive call. Placing children right after their
// parent would need an order key that is not a list position; the appended
// order is deterministic and is what PyPy-STM's add_task inside a task
// does. Tasks must add tasks from their bodies, not from commit hooks of
// their own, for the order to be defined.
//
// The price: a task that reaches its end before its turn runs again once
// the turn reaches it (and once per earlier commit that wakes it, with
// more than two workers). Ordered mode pays off when bodies are long
// compared with a commit; for tiny tasks it runs at about serial speed. A
// panic in a run before the task's turn is not raised: the task waits for
// its turn and runs again, and only a panic at its turn is raised, as the
// serial loop would raise it. A task that calls Tx.Inevitable in ordered
// mode before its turn panics (Retry in an inevitable transaction).
//
// # Dispatcher
//
// [Dispatcher] is the talk's asynchronous example: events from a source (a
// channel, or any func(ctx) (E, error), such as a listener's Accept) are
// handled on N workers, each handler call its own transaction, so that
// handlers written as if single-threaded stay correct on many cores. A
// handler replies through AfterCommit.
//
// # Queue
//
// The transactional FIFO queue that the talk's reactor uses lives in package
// txds (txds.Queue); the Dispatcher does not need it, taking its events
// from a channel or a function instead.
package tasks
