package network

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// The CNI plugins leave these iptables objects behind when they cannot
// clean up themselves (see leftovers.go). They are read with iptables-save
// and removed with one iptables-restore --noflush per table, which applies
// every change or none.

// saveTable lists the rules of one table as iptables-save prints them
// ("-A CHAIN …"), and the chains it declares.
func saveTable(table string) (rules []string, chains []string, err error) {
	out, err := exec.Command("iptables-save", "-t", table).Output()
	if err != nil {
		return nil, nil, fmt.Errorf("iptables-save -t %s: %w%s", table, err, stderrOf(err))
	}
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "-A "):
			rules = append(rules, l)
		case strings.HasPrefix(l, ":"):
			name, _, _ := strings.Cut(l[1:], " ")
			chains = append(chains, name)
		}
	}
	return rules, chains, nil
}

// restoreTable applies commands ("-D …", "-F X", "-X X") to one table at once.
func restoreTable(table string, cmds []string) error {
	if len(cmds) == 0 {
		return nil
	}
	in := "*" + table + "\n" + strings.Join(cmds, "\n") + "\nCOMMIT\n"
	cmd := exec.Command("iptables-restore", "--noflush", "-w")
	cmd.Stdin = strings.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables-restore (%s: %s): %w: %s", table, strings.Join(cmds, "; "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// ruleChain is the chain a rule line appends to.
func ruleChain(rule string) string {
	f := strings.Fields(rule)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// ruleTarget is the chain or target a rule jumps or goes to.
func ruleTarget(rule string) string {
	f := strings.Fields(rule)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-j" || f[i] == "-g" {
			return f[i+1]
		}
	}
	return ""
}

// removeChainCmds are the commands that remove chains of a table: every
// rule that jumps to one of them, then their rules, then the chains.
func removeChainCmds(rules, declared []string, chains map[string]bool) []string {
	var cmds []string
	for _, r := range rules {
		if chains[ruleTarget(r)] && !chains[ruleChain(r)] {
			cmds = append(cmds, "-D"+strings.TrimPrefix(r, "-A"))
		}
	}
	for _, c := range declared {
		if chains[c] {
			cmds = append(cmds, "-F "+c, "-X "+c)
		}
	}
	return cmds
}

// removeChains removes the chains of a table that exist, with the rules
// that jump to them.
func removeChains(table string, chains map[string]bool) error {
	if len(chains) == 0 {
		return nil
	}
	rules, declared, err := saveTable(table)
	if err != nil {
		return err
	}
	return restoreTable(table, removeChainCmds(rules, declared, chains))
}

// commentOwner matches the comment the bridge (masquerade) and portmap
// plugins put on a container's rules: name: "NET" id: "CONTAINER".
var commentOwner = regexp.MustCompile(`name: \\"([^"\\]*)\\" id: \\"([^"\\]*)\\"`)

// ruleOwner is the network and container named by a rule's comment.
func ruleOwner(rule string) (network, container string, ok bool) {
	m := commentOwner.FindStringSubmatch(rule)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// forwardRule matches the firewall plugin's per-address rules in its
// CNI-FORWARD chain.
var forwardRule = regexp.MustCompile(`^-A CNI-FORWARD -[ds] ([0-9.]+)/32 `)

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
