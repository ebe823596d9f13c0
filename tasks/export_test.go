package tasks

// BlockStats returns, summed over the workers of p since New, the blocks
// of more than one task that committed without Ordered, their tasks, and
// their runs beyond the first. Call it only while p does not run.
func BlockStats(p *Pool) (blocks, tasks, reruns int) {
	for w := range p.inBody {
		ws := &p.inBody[w]
		blocks += ws.blocks
		tasks += ws.blockTasks
		reruns += ws.reruns
	}
	return blocks, tasks, reruns
}

// FixBlock sets p's block size (blk) to n tasks and keeps it there,
// from its next Run on (n at most maxBlock; 0: it adapts).
func FixBlock(p *Pool, n int) {
	if n > maxBlock {
		panic("tasks: FixBlock past maxBlock")
	}
	p.blkFixed = int32(n)
}

// SoloBlocks returns, summed over the workers of p since New, the blocks
// that ran holding the solo gate. Call it only while p does not run.
func SoloBlocks(p *Pool) (n int) {
	for w := range p.inBody {
		n += p.inBody[w].soloBlocks
	}
	return n
}

// ForceSolo makes every block of p (without Ordered) run behind the solo
// gate, as if its blocks kept conflicting, from now on (false: as doubt
// says).
func ForceSolo(p *Pool, on bool) { p.soloForced = on }
