package app

import "context"

// AddTestLoop adds a background loop, for tests of the run group.
func (a *App) AddTestLoop(name string, run func(context.Context) error) {
	a.extraLoops = append(a.extraLoops, loop{name, run})
}
