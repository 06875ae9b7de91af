package worker

import "testing"

func TestSealOpensWithAnyKeyAfterRotation(t *testing.T) {
	old, _ := newSealer([]string{"old-secret-0123456789"})
	rotated, _ := newSealer([]string{"new-secret-0123456789", "old-secret-0123456789"})
	sealed := old.seal("token-value")
	if got, err := rotated.open(sealed); err != nil || got != "token-value" {
		t.Fatalf("open after rotation = %q, %v", got, err)
	}
	other, _ := newSealer([]string{"unrelated-secret-0123"})
	if _, err := other.open(sealed); err == nil {
		t.Fatal("a sealer without the key opened the token")
	}
	for _, bad := range []string{"", "!!", "AAAA", sealed[:len(sealed)-2]} {
		if _, err := rotated.open(bad); err == nil {
			t.Fatalf("open(%q) succeeded", bad)
		}
	}
}

func TestNewSealerNeedsASecret(t *testing.T) {
	if _, err := newSealer(nil); err == nil {
		t.Fatal("newSealer(nil) succeeded")
	}
}
