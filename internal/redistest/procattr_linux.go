package redistest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal has cmd killed when the test process dies, so a killed
// test run leaves no redis-server behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
