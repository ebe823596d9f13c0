// Package tasks gives hytm's programming model from the PyPy-STM talk: the
// illusion of serial execution. Add tasks to a pool and run them all; each
// task runs as a transaction, on one of several worker goroutines (several
// consecutive tasks may share one transaction, see Blocks), and the result
// is that of running the tasks one after another.
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
// In Go memory-model terms: every task that commits does so in one
// transaction (hybrid.Atomically), alone or with the tasks of its block,
// which ran one after another in it; so the tasks' effects on Vars are as
// if the committed tasks ran one at a time, each under one global mutex,
// in some order (the order they were added, with [Ordered]); the commit
// of a task synchronizes before every task that observes its Stores, and
// before Run returns. No task sees another's partial effects; no lock appears in user
// code. What the illusion does not cover is what transactions never cover:
// memory outside Vars, and side effects. A task body may run more than once
// (after a conflict, of its own or of another task in its block, when its
// block splits, and in ordered mode while it waits for its turn), so it
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
// # Blocks
//
// A transaction costs more than a task that does little: its begin and
// commit, and a global clock that every writing commit ticks, a cache line
// that the cores' commits take from one another. So a worker runs the
// consecutive tasks it has claimed in blocks: the bodies of a block run one
// after another in one transaction, which commits them all at once. A
// block is the serial composition of its tasks (each sees what the tasks
// before it in the block stored, and they commit or roll back together),
// so the result is still that of running every task one after another:
// the tasks of the block, in order, take one place in the serial order.
// The commit hooks of a block's tasks run after its commit, in task order,
// once each; tasks added by its tasks join the pool then.
//
// A block never changes what one task sees or does. A task that returns
// an error or panics splits its block: the block rolls back, the tasks
// before it commit as a block, and the task runs again alone, as its own
// transaction, so that its error or panic is that of a run on its own and
// rolls back only that task. A task that calls [stm.Tx.Retry] splits its
// block the same way, and then waits alone, so that the tasks before it
// commit and a task that waits never holds other tasks (another task, on
// another worker, may be waiting for them). A task that calls
// [stm.Tx.Inevitable] runs alone too: what it does after Inevitable
// happens once, in its own commit. Retry inside an [stm.OrElse] branch
// moves on to the next branch as usual and splits nothing.
//
// Blocks start at one task and grow, up to 16, while they commit at their
// first run; a block that conflicts (it commits only at a second run, or is
// split in two after a second conflict) halves the size, so that tasks
// that conflict with one another run in small blocks. While blocks keep
// conflicting (without [Ordered]), they run one at a time, mostly on one
// worker, and side by side again once they stop: a workload whose tasks
// all update one Var runs at about the speed of one worker instead of
// losing most of it to conflicts. This only schedules: a worker whose wait
// sees no progress runs its block anyway, and no block is waited for
// while one of its tasks waits (Retry) or is inevitable. With hardware
// transactions, a block runs in hardware first, like any transaction; one
// that does not fit the hardware's capacity runs in software.
//
// # Ordered mode
//
// With [Ordered], tasks commit in the order they were added: the final
// state equals the serial loop's exactly,
//
//	for i := 0; i < len(tasks); i++ { atomically(tasks[i]) } // tasks may append to tasks
//
// while bodies still run in parallel. This is speculative parallelization
// on top of the TM. The pool keeps a turn: task i may commit only once
// every task before it has committed or failed, and it passes the turn on
// after its own commit and its commit hooks. A task whose turn has come
// runs as an ordinary transaction: its snapshot holds every earlier task's
// commit and no later one. A task whose turn has not come runs its body
// at once, on its own snapshot, then waits for its turn inside the
// transaction and commits; the commit validates every Var the body read
// (a task that stored nothing validates too), so if an earlier task
// committed a write to one of them, the body runs again, now at its turn,
// and otherwise its one run stands: it computed what it would have
// computed at its turn. An error or a panic is always that of a run at the
// task's turn: a speculative run that returns an error or panics rolls
// back and the task runs again at its turn, and only that run's error or
// panic counts (then, unless StopOnError stops the pool, the turn passes
// on).
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
// Blocks: a worker takes a run of consecutive tasks (a block) and runs
// their bodies one after another as one transaction, which waits for the
// turn of the block's first task and commits the whole block; the turn
// then passes once per block instead of once per task. The result is the
// same as task by task: a block's commit validates every Var its tasks
// read, its tasks' commit hooks run after the commit in task order, and a
// task that returns an error or panics splits its block (the tasks before
// it commit as a block, and the task runs alone, at its turn, so that its
// error or panic is that of a run at its turn and rolls back only that
// task). Blocks start at one task and grow while they commit at their
// first run, up to 32 tasks, and shrink when a block runs again (it read
// what an earlier block wrote) or splits; they grow back to a size that
// ran again only slowly, since in a fixed order the same dependency comes
// back.
//
// The price: commits are serial, one after another in task order, and
// passing the turn from one worker to the next costs a cache-line transfer
// between cores; blocks spread that cost over their tasks, but ordered
// mode pays off most when bodies are long compared with a commit. A speculative
// run waits for its turn by polling, for a bounded time, and steps aside
// (rolls back and waits outside any transaction, to run again at its turn)
// when the task whose turn it is is not running its body: that task may be
// blocked behind the waiting transaction (the contention gate, the
// irrevocable token). When speculative runs keep failing (every task
// updates the same Var, say), the pool stops speculating for a while and
// tasks wait for their turn before running, instead of running twice.
// Bodies must keep to Loads and Stores, as always: in ordered mode a body
// that calls Tx.Inevitable before its turn may still roll back (its side
// effects done) and run again at its turn; do I/O in commit hooks.
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
