package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"
)

// kansoku bench resident --pid P prints the process' binary by section
// and by module; without --pid it is refused.
func TestBenchResidentCommand(t *testing.T) {
	commands := map[string]func(context.Context) error{}
	a := kingpin.New("kansoku", "")
	registerBench(a, commands)
	if _, err := a.Parse([]string{"bench", "resident"}); err == nil {
		t.Fatal("bench resident without --pid: no error")
	}
	cmd, err := a.Parse([]string{"bench", "resident", "--pid", strconv.Itoa(os.Getpid()), "--top", "2"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	saved := stdout
	stdout = &out
	defer func() { stdout = saved }()
	if err := commands[cmd](context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"of the executable resident", ".text", "module (functions, named data)", "std"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
