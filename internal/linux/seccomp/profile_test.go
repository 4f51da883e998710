package seccomp

import "testing"

func TestLoadProfile(t *testing.T) {
	body := []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
		{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
		{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}}]}`)
	p, err := LoadProfile(body, []string{"CAP_CHOWN"})
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultAction != "SCMP_ACT_ERRNO" || len(p.Syscalls) != 1 || p.Syscalls[0].Names[0] != "read" {
		t.Fatalf("profile without CAP_SYS_ADMIN: %+v", p)
	}
	if p, _ := LoadProfile(body, []string{"CAP_SYS_ADMIN"}); len(p.Syscalls) != 2 {
		t.Fatalf("profile with CAP_SYS_ADMIN: %+v", p)
	}
	for _, bad := range []string{`{`, `{"syscalls":[]}`} {
		if _, err := LoadProfile([]byte(bad), nil); err == nil {
			t.Errorf("LoadProfile(%s) succeeded", bad)
		}
	}
}
