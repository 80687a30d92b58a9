package password

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h := New()
	hash, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected hash format %q", hash)
	}
	if ok, err := h.Verify(hash, "correct horse battery"); !ok || err != nil {
		t.Fatalf("right password rejected: %v %v", ok, err)
	}
	if ok, _ := h.Verify(hash, "correct horse batterY"); ok {
		t.Fatal("wrong password accepted")
	}
	other, _ := h.Hash("correct horse battery")
	if other == hash {
		t.Fatal("two hashes of one password share a salt")
	}
	// A hash made with other parameters still verifies.
	weak := &Hasher{Memory: 64, Time: 1, Threads: 1}
	old, _ := weak.Hash("an older password")
	if ok, _ := h.Verify(old, "an older password"); !ok {
		t.Fatal("hash with other parameters rejected")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "$argon2id$v=19$m=16,t=1,p=1$!!$AA"} {
		if _, err := h.Verify(bad, "x"); err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}
