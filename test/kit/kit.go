// Package kit builds what integration tests run containers from: a minimal
// busybox rootfs with the probe at /probe (Rootfs), an OCI bundle around it
// with a spec ready for tests (NewBundle), and an OCI image layout holding the
// same rootfs as one layer (OCILayout).
//
// A test changes Bundle.Spec directly, saves it and hands Bundle.Path() to the
// runtime under test:
//
//	b := kit.NewBundle(t)
//	b.Spec.Process.Args = []string{"/probe", "exit", "3"}
//	if err := b.Save(); err != nil {
//		t.Fatal(err)
//	}
//	cmd := exec.Command(testenv.Binary(t, "berth-runtime"), "run", "--bundle", b.Path(), id)
//
// Image tests get deterministic OCI images built from the same rootfs
// (BusyboxImage, and BigImage, a 200 MB image of six layers of every kind
// for unpack tests and benchmarks), what their unpacked rootfs must be
// (ExpectedTree, CheckTree), and the test registries that
// scripts/registry.sh runs (Registry, AuthRegistry, PushImage):
//
//	img := kit.BigImage(t, "")
//	kit.PushImage(t, img, kit.Registry(t)+"/berth-test/big:1")
//	// … pull 127.0.0.1:5000/berth-test/big:1, unpack and mount it at rootfs …
//	kit.CheckTree(t, rootfs, kit.ExpectedTree(t, img))
//
// Everything the kit makes is removed when the test ends (t.TempDir, and the
// bundle's cgroups under the "berth" parent), but for the images, which are
// built once per machine into ImageCacheDir and kept there.
package kit
