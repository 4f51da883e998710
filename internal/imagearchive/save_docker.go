package imagearchive

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/reference"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerManifestEntry is one image of a docker-archive's manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// saveDocker writes the layout of `docker save`: for each image (the host
// platform's manifest of an index) its config and its layers uncompressed,
// then manifest.json and repositories.
func saveDocker(tw *tarWriter, cs *content.Store, images []Named) error {
	var entries []dockerManifestEntry
	byManifest := map[string]int{} // manifest digest → index in entries
	repos := map[string]map[string]string{}
	for _, img := range images {
		mdesc, err := platformManifest(cs, img.Target)
		if err != nil {
			return fmt.Errorf("image %q: %w", img.Name, err)
		}
		i, ok := byManifest[mdesc.Digest.String()]
		if !ok {
			entry, err := writeDockerImage(tw, cs, mdesc)
			if err != nil {
				return fmt.Errorf("image %q: %w", img.Name, err)
			}
			i = len(entries)
			entries = append(entries, entry)
			byManifest[mdesc.Digest.String()] = i
		}
		ref, _ := reference.Parse(img.Name)
		if img.Name == "" || ref.Tag == "" {
			continue // docker lists tags only
		}
		// Full names: podman reads "busybox:latest" as
		// localhost/busybox:latest, docker reads either form.
		ref.Digest = ""
		tag := ref.String()
		if !slices.Contains(entries[i].RepoTags, tag) {
			entries[i].RepoTags = append(entries[i].RepoTags, tag)
		}
		repo := ref.Repository()
		if repos[repo] == nil {
			repos[repo] = map[string]string{}
		}
		if n := len(entries[i].Layers); n > 0 {
			repos[repo][ref.Tag] = path.Base(entries[i].Layers[n-1]) // the top layer's hex
		}
	}
	data, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	if err := tw.bytes("manifest.json", data); err != nil {
		return err
	}
	if len(repos) == 0 {
		return nil
	}
	data, err = json.Marshal(repos)
	if err != nil {
		return err
	}
	return tw.bytes("repositories", data)
}

// writeDockerImage writes the config and the uncompressed layers of the
// manifest mdesc and returns its manifest.json entry.
func writeDockerImage(tw *tarWriter, cs *content.Store, mdesc ocispec.Descriptor) (dockerManifestEntry, error) {
	data, err := readDocument(cs, mdesc)
	if err != nil {
		return dockerManifestEntry{}, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return dockerManifestEntry{}, fmt.Errorf("manifest %s: %v: %w", mdesc.Digest, err, errdefs.ErrInvalidArgument)
	}
	cdata, err := readDocument(cs, m.Config)
	if err != nil {
		return dockerManifestEntry{}, fmt.Errorf("manifest %s: config: %w", mdesc.Digest, err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(cdata, &cfg); err != nil {
		return dockerManifestEntry{}, fmt.Errorf("config %s: %v: %w", m.Config.Digest, err, errdefs.ErrInvalidArgument)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return dockerManifestEntry{}, fmt.Errorf("manifest %s: %d layers but config %s lists %d diffIDs: %w",
			mdesc.Digest, len(m.Layers), m.Config.Digest, len(cfg.RootFS.DiffIDs), errdefs.ErrInvalidArgument)
	}
	entry := dockerManifestEntry{Config: blobName(m.Config.Digest), RepoTags: []string{}}
	if err := tw.blob(cs, m.Config.Digest, m.Config.Size); err != nil {
		return dockerManifestEntry{}, err
	}
	for i, l := range m.Layers {
		diffID := cfg.RootFS.DiffIDs[i]
		if err := diffID.Validate(); err != nil || diffID.Algorithm() != digest.SHA256 {
			return dockerManifestEntry{}, fmt.Errorf("config %s: diffID %q: %w", m.Config.Digest, diffID, errdefs.ErrInvalidArgument)
		}
		if err := writeLayer(tw, cs, l, diffID); err != nil {
			return dockerManifestEntry{}, err
		}
		entry.Layers = append(entry.Layers, blobName(diffID))
	}
	return entry, nil
}

// writeLayer writes the layer l uncompressed as blobs/sha256/<diffID>. A
// compressed layer is read twice, once to learn its size (a tar header comes
// before the data) and once to copy it, so that nothing is spooled to disk.
func writeLayer(tw *tarWriter, cs *content.Store, l ocispec.Descriptor, diffID digest.Digest) error {
	if tw.done[blobName(diffID)] {
		return nil
	}
	if l.Digest == diffID {
		return tw.blob(cs, l.Digest, l.Size)
	}
	size, got, err := uncompressedDigest(cs, l.Digest)
	if err != nil {
		return err
	}
	if got != diffID {
		return fmt.Errorf("layer %s: uncompressed digest %s, its diffID is %s: %w", l.Digest, got, diffID, errdefs.ErrFailedPrecondition)
	}
	rc, err := cs.Open(l.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	dr, err := archive.Decompress(rc)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	defer dr.Close()
	v := diffID.Verifier()
	if err := tw.file(blobName(diffID), size, io.TeeReader(dr, v)); err != nil {
		return fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	if !v.Verified() {
		return fmt.Errorf("layer %s: changed while it was saved: %w", l.Digest, errdefs.ErrFailedPrecondition)
	}
	return nil
}

// uncompressedDigest returns the size and digest of the blob d decompressed.
func uncompressedDigest(cs *content.Store, d digest.Digest) (int64, digest.Digest, error) {
	rc, err := cs.Open(d)
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	dr, err := archive.Decompress(rc)
	if err != nil {
		return 0, "", fmt.Errorf("layer %s: %w", d, err)
	}
	defer dr.Close()
	dg := digest.SHA256.Digester()
	n, err := io.Copy(dg.Hash(), dr)
	if err != nil {
		return 0, "", fmt.Errorf("layer %s: decompress: %w", d, err)
	}
	return n, dg.Digest(), nil
}
