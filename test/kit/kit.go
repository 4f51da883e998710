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
// Everything the kit makes is removed when the test ends (t.TempDir, and the
// bundle's cgroups under the "berth" parent).
package kit
