package stmds

import tm "github.com/hytm/hytm/stm"

// Accounts is the bank: one Var per account balance.
type Accounts struct {
	bal []*tm.Var[int]
}

// NewAccounts returns n accounts holding initial each.
func NewAccounts(n, initial int) *Accounts {
	a := &Accounts{bal: make([]*tm.Var[int], n)}
	for i := range a.bal {
		a.bal[i] = tm.NewVar(initial)
	}
	return a
}

// Transfer moves amount from account from to account to.
func (a *Accounts) Transfer(tx *tm.Tx, from, to, amount int) {
	a.bal[from].Store(tx, a.bal[from].Load(tx)-amount)
	a.bal[to].Store(tx, a.bal[to].Load(tx)+amount)
}

// Audit returns the sum of all balances.
func (a *Accounts) Audit(tx *tm.Tx) int {
	sum := 0
	for i := range a.bal {
		sum += a.bal[i].Load(tx)
	}
	return sum
}

// Balances returns every balance.
func (a *Accounts) Balances(tx *tm.Tx) []int {
	out := make([]int, len(a.bal))
	for i := range a.bal {
		out[i] = a.bal[i].Load(tx)
	}
	return out
}
