package ociruntime

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Update changes the cgroup limits of a running container (`update
// --resources <file>`, the linux.resources JSON of the runtime-spec).
func (r *Runtime) Update(ctx context.Context, id string, res *specs.LinuxResources) error {
	data, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("%s update %q: encode resources: %w", r.name(), id, err)
	}
	rf, err := r.writeTemp("ociruntime-resources-*.json", data)
	if err != nil {
		return fmt.Errorf("%s update %q: %w", r.name(), id, err)
	}
	defer os.Remove(rf)
	_, err = r.run(ctx, call{op: "update", id: id, args: []string{"update", "--resources", rf, id}})
	return err
}
