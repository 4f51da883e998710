package storage

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/berth-project/berth/internal/snapshot"
)

// Snapshot is a recorded snapshot: its info and the id that names its
// directory (Store.Dir).
type Snapshot struct {
	ID   uint64
	Info snapshot.Info
}

// record is the stored form of a snapshot, the value under its key.
type record struct {
	ID      uint64            `json:"id"`
	Kind    string            `json:"kind"`
	Parent  string            `json:"parent,omitempty"`
	Created time.Time         `json:"created"`
	Labels  map[string]string `json:"labels,omitempty"`
}

func kindFromString(s string) snapshot.Kind {
	for _, k := range []snapshot.Kind{snapshot.KindView, snapshot.KindActive, snapshot.KindCommitted} {
		if k.String() == s {
			return k
		}
	}
	return snapshot.KindUnknown
}

func encodeRecord(r record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode snapshot record: %w", err)
	}
	return b, nil
}

func decodeRecord(key string, b []byte) (Snapshot, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %q: decode record: %w", key, err)
	}
	return Snapshot{ID: r.ID, Info: snapshot.Info{
		Key:     key,
		Parent:  r.Parent,
		Kind:    kindFromString(r.Kind),
		Created: r.Created,
		Labels:  r.Labels,
	}}, nil
}

func (s Snapshot) record() record {
	return record{
		ID:      s.ID,
		Kind:    s.Info.Kind.String(),
		Parent:  s.Info.Parent,
		Created: s.Info.Created,
		Labels:  s.Info.Labels,
	}
}

func copyLabels(l map[string]string) map[string]string {
	if len(l) == 0 {
		return nil
	}
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}
