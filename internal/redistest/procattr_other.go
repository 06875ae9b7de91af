//go:build !linux

package redistest

import "os/exec"

// setDeathSignal does nothing where the system has no parent-death signal:
// a killed test run may leave its redis-server processes behind.
func setDeathSignal(*exec.Cmd) {}
