package newsletter_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxTrackedSize is the largest file the repository may track. Anything
// bigger is almost always a build output (a 54 MB binary of
// cmd/newsletter was once committed) and belongs in .gitignore.
const maxTrackedSize = 2 << 20

// TestNoLargeTrackedFiles fails for each file that git tracks (or is told
// to, with git add -N) and that is over maxTrackedSize on disk.
func TestNoLargeTrackedFiles(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	root := strings.TrimSpace(string(top))

	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var checked int
	for name := range bytes.SplitSeq(out, []byte{0}) {
		if len(name) == 0 {
			continue
		}
		info, err := os.Lstat(filepath.Join(root, string(name)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree, not yet in the index
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checked++
		if info.Mode().IsRegular() && info.Size() > maxTrackedSize {
			t.Errorf("%s is tracked and %.1f MB (over %d MB): build outputs and data belong in .gitignore, not in git",
				name, float64(info.Size())/(1<<20), maxTrackedSize>>20)
		}
	}
	if checked == 0 {
		t.Fatal("git ls-files listed no file")
	}
}
