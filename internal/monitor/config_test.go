package monitor

import (
	"errors"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestParseRestartPolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want RestartPolicy
		ok   bool
	}{
		{"", RestartPolicy{}, true},
		{"no", RestartPolicy{Name: "no"}, true},
		{"always", RestartPolicy{Name: "always"}, true},
		{"unless-stopped", RestartPolicy{Name: "unless-stopped"}, true},
		{"on-failure", RestartPolicy{Name: "on-failure"}, true},
		{"on-failure:3", RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}, true},
		{"on-failure:-1", RestartPolicy{}, false},
		{"on-failure:x", RestartPolicy{}, false},
		{"always:2", RestartPolicy{}, false},
		{"sometimes", RestartPolicy{}, false},
	} {
		got, err := ParseRestartPolicy(tc.in)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("ParseRestartPolicy(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if !tc.ok && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("ParseRestartPolicy(%q): %v, want InvalidArgument", tc.in, err)
		}
	}
}

func TestValidate(t *testing.T) {
	good := func() *Config {
		return &Config{ID: "c", Bundle: "/b", RunDir: "/run/x", Runtime: RuntimeConfig{Path: "runc"},
			Health: &HealthConfig{Test: []string{"CMD-SHELL", "true"}}}
	}
	c := good()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Log.Driver != DriverK8sFile || c.Log.Path != "/run/x/ctr.log" || c.SocketDir != "/run/x" || c.ExitFile != "/run/x/exit" {
		t.Errorf("defaults: %+v", c)
	}
	if h := c.Health; h.Interval != 30*time.Second || h.Timeout != 30*time.Second || h.Retries != 3 || h.StartInterval != 5*time.Second {
		t.Errorf("health defaults: %+v", h)
	}
	c = good()
	c.Health.Test = []string{"NONE"}
	if err := c.Validate(); err != nil || c.Health != nil {
		t.Errorf("NONE: %v, %+v", err, c.Health)
	}
	for name, breakIt := range map[string]func(*Config){
		"no id":           func(c *Config) { c.ID = "" },
		"relative bundle": func(c *Config) { c.Bundle = "b" },
		"relative rundir": func(c *Config) { c.RunDir = "x" },
		"no runtime":      func(c *Config) { c.Runtime.Path = "" },
		"driver":          func(c *Config) { c.Log.Driver = "syslog" },
		"max-size":        func(c *Config) { c.Log.MaxSize = -1 },
		"policy":          func(c *Config) { c.Restart.Name = "sometimes" },
		"count on always": func(c *Config) { c.Restart = RestartPolicy{Name: "always", MaximumRetryCount: 2} },
		"health test":     func(c *Config) { c.Health.Test = []string{"CMD"} },
		"health shell":    func(c *Config) { c.Health.Test = []string{"CMD-SHELL", "a", "b"} },
		"health interval": func(c *Config) { c.Health.Interval = -time.Second },
	} {
		c := good()
		breakIt(c)
		if err := c.Validate(); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

func TestBackoff(t *testing.T) {
	var d time.Duration
	var got []time.Duration
	for range 12 {
		d = nextBackoff(d, time.Second)
		got = append(got, d)
	}
	if got[0] != 100*time.Millisecond || got[1] != 200*time.Millisecond || got[2] != 400*time.Millisecond || got[11] != time.Minute {
		t.Errorf("delays %v", got)
	}
	if d := nextBackoff(time.Minute, 10*time.Second); d != 100*time.Millisecond {
		t.Errorf("after a 10 s run: %v, want 100ms", d)
	}
}

func TestShouldRestart(t *testing.T) {
	m := &monitor{cfg: &Config{}}
	for _, tc := range []struct {
		policy   RestartPolicy
		code     int
		restarts int
		want     bool
	}{
		{RestartPolicy{}, 1, 0, false},
		{RestartPolicy{Name: "no"}, 1, 0, false},
		{RestartPolicy{Name: "always"}, 0, 100, true},
		{RestartPolicy{Name: "unless-stopped"}, 0, 0, true},
		{RestartPolicy{Name: "on-failure"}, 0, 0, false},
		{RestartPolicy{Name: "on-failure"}, 1, 100, true},
		{RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}, 1, 1, true},
		{RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}, 1, 2, false},
	} {
		m.cfg.Restart, m.state.RestartCount = tc.policy, tc.restarts
		if got := m.shouldRestart(tc.code); got != tc.want {
			t.Errorf("%+v exit %d after %d restarts: %v, want %v", tc.policy, tc.code, tc.restarts, got, tc.want)
		}
	}
}

func TestStartFailureCode(t *testing.T) {
	for msg, want := range map[string]int{
		`exec: "nope": executable file not found in $PATH`: 127,
		`exec /bin/x: permission denied`:                   126,
		`something else`:                                   128,
	} {
		if got := startFailureCode(msg); got != want {
			t.Errorf("%q: %d, want %d", msg, got, want)
		}
	}
}

func TestErrReplyRoundTrip(t *testing.T) {
	err := classError("container \"x\" does not exist", errdefs.ErrNotFound.Error())
	if !errdefs.IsNotFound(err) {
		t.Errorf("%v lost its class", err)
	}
	rep := errReply(err)
	if rep.Class != "not found" {
		t.Errorf("reply %+v", rep)
	}
}
