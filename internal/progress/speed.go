package progress

import "time"

// speedWindow is how far back the speed of a layer looks.
const speedWindow = 2 * time.Second

// sampleEvery spaces the samples a meter keeps, so that it keeps at most
// speedWindow/sampleEvery+2 of them however often it is fed.
const sampleEvery = speedWindow / 16

type sample struct {
	at    time.Time
	bytes int64
}

// meter measures bytes per second over a sliding window.
type meter struct {
	samples []sample // oldest first, sampleEvery apart; samples[0] is the base
	latest  sample
}

// add records that bytes were done at time at.
func (m *meter) add(at time.Time, bytes int64) {
	if len(m.samples) > 0 && bytes < m.latest.bytes { // went back: a restart
		m.reset()
	}
	m.latest = sample{at, bytes}
	if n := len(m.samples); n == 0 || at.Sub(m.samples[n-1].at) >= sampleEvery {
		m.samples = append(m.samples, m.latest)
	}
	// Keep one sample at or before the start of the window, as the base.
	cut := 0
	for cut+1 < len(m.samples) && !m.samples[cut+1].at.After(at.Add(-speedWindow)) {
		cut++
	}
	if cut > 0 {
		m.samples = append(m.samples[:0], m.samples[cut:]...)
	}
}

// rate returns the bytes per second from the base sample to now; 0 when
// there is nothing to measure or nothing has moved for a whole window.
func (m *meter) rate(now time.Time) float64 {
	if len(m.samples) == 0 || now.Sub(m.latest.at) > speedWindow {
		return 0
	}
	base := m.samples[0]
	dt := now.Sub(base.at).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(m.latest.bytes-base.bytes) / dt
}

func (m *meter) reset() { m.samples = m.samples[:0] }
