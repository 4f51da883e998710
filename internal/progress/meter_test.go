package progress

import (
	"testing"
	"time"
)

func TestMeterSteadyRate(t *testing.T) {
	c := newClock()
	var m meter
	var n int64
	for range 100 { // 10 s at 8.1 MB/s, fed every 10 ms
		m.add(c.Now(), n)
		c.Advance(10 * time.Millisecond)
		n += 81000
	}
	m.add(c.Now(), n)
	if got := HumanSize(m.rate(c.Now())); got != "8.1MB" {
		t.Errorf("rate = %s/s, want 8.1MB/s", got)
	}
	if max := int(speedWindow/sampleEvery) + 2; len(m.samples) > max {
		t.Errorf("%d samples kept, want at most %d", len(m.samples), max)
	}
}

func TestMeterWindowForgets(t *testing.T) {
	c := newClock()
	var m meter
	// 10 s slow, then 2 s fast: the window sees only the fast part.
	var n int64
	for range 100 {
		m.add(c.Now(), n)
		c.Advance(100 * time.Millisecond)
		n += 1000
	}
	for range 20 {
		m.add(c.Now(), n)
		c.Advance(100 * time.Millisecond)
		n += 1e6
	}
	m.add(c.Now(), n)
	if r := m.rate(c.Now()); r < 9e6 || r > 11e6 {
		t.Errorf("rate = %.0f B/s, want about 10 MB/s", r)
	}
}

func TestMeterStallAndRestart(t *testing.T) {
	c := newClock()
	var m meter
	if r := m.rate(c.Now()); r != 0 {
		t.Errorf("empty meter rate = %v", r)
	}
	m.add(c.Now(), 0)
	c.Advance(time.Second)
	m.add(c.Now(), 1e6)
	c.Advance(3 * time.Second) // nothing moved for more than a window
	if r := m.rate(c.Now()); r != 0 {
		t.Errorf("stalled rate = %v, want 0", r)
	}
	m.add(c.Now(), 10) // the transfer restarted from the beginning
	if len(m.samples) != 1 || m.samples[0].bytes != 10 {
		t.Errorf("after a restart samples = %v, want only the new one", m.samples)
	}
}
