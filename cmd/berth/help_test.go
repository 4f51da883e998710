package main

import (
	"regexp"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpDefaults checks that no flag's help states a default that
// pflag's own "(default …)" then contradicts (stop -t said "the
// container's --stop-timeout, 10" and then "(default 10)").
func TestHelpDefaults(t *testing.T) {
	twice := regexp.MustCompile(`\(default[^)]*\) \(default [^)]*\)`)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if m := twice.FindString(c.LocalFlags().FlagUsages()); m != "" {
			t.Errorf("berth %s --help: two defaults: %s", c.CommandPath(), m)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(&globals{}))
}
