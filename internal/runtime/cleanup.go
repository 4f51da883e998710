package runtime

// undo is a stack of rollback steps for a multi-step operation: every step
// that changed the host pushes its inverse; on failure Run unwinds them in
// reverse, on success Release drops them.
type undo struct{ steps []func() }

func (u *undo) push(f func()) { u.steps = append(u.steps, f) }

// Run runs the pushed steps in reverse order, once.
func (u *undo) Run() {
	for i := len(u.steps) - 1; i >= 0; i-- {
		u.steps[i]()
	}
	u.steps = nil
}

// Release forgets the steps: the operation succeeded.
func (u *undo) Release() { u.steps = nil }
