package subscribers

import "testing"

func TestSealOpensWithAnyKeyAfterRotation(t *testing.T) {
	old, _ := NewSealer([]string{"old-secret-0123456789"})
	rotated, _ := NewSealer([]string{"new-secret-0123456789", "old-secret-0123456789"})
	sealed := old.Seal("token-value")
	if got, err := rotated.Open(sealed); err != nil || got != "token-value" {
		t.Fatalf("open after rotation = %q, %v", got, err)
	}
	other, _ := NewSealer([]string{"unrelated-secret-0123"})
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("a sealer without the key opened the token")
	}
	for _, bad := range []string{"", "!!", "AAAA", sealed[:len(sealed)-2]} {
		if _, err := rotated.Open(bad); err == nil {
			t.Fatalf("open(%q) succeeded", bad)
		}
	}
}

func TestNewSealerNeedsASecret(t *testing.T) {
	if _, err := NewSealer(nil); err == nil {
		t.Fatal("NewSealer(nil) succeeded")
	}
}
