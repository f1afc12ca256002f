package app_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/kansoku/kansoku/internal/testenv"
)

// The README's "AMP operations" table says exactly which operations of
// the AWS CLI's amp model this build serves: an operation marked "yes" has
// a route of that name, one marked otherwise has none, and the table
// lists all 44 operations of the model.
func TestREADMEOperationsTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([A-Za-z]+)` \\| `aws amp [a-z-]+` \\| ([a-z ]+) \\|$").FindAllSubmatch(readme, -1)
	if len(rows) != 44 {
		t.Fatalf("the README's AMP operations table has %d rows, want the model's 44", len(rows))
	}
	s := testenv.Start(t, testenv.Options{})
	routes := map[string]bool{}
	for _, r := range s.App.API().Routes() {
		routes[r.Name] = true
	}
	for _, row := range rows {
		op, served := string(row[1]), string(row[2]) == "yes"
		if served != routes[op] {
			t.Errorf("README says %s is served: %v; the route table has it: %v", op, served, routes[op])
		}
	}
}
