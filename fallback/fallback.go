package fallback

// EscalateAfter is the number of aborted attempts after which a software
// transaction runs in serial-irrevocable mode, where it cannot abort: every
// transaction commits within EscalateAfter+1 attempts plus the wait for the
// irrevocable token, given that its body terminates (Retry aside).
//
// Eight keeps escalation rare under ordinary contention (a transaction that
// aborts eight times in a row has lost about 2^8 random backoff rounds'
// worth of races) while it bounds the worst case. Larger values did not
// improve two goroutines contending on one Var beyond noise; smaller ones
// escalate under ordinary contention.
const EscalateAfter = 8
