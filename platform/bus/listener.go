package bus

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrForeignListener: the local port the bus should answer on is held by
// another user's process, which would be handed the bus's password.
var ErrForeignListener = errors.New("the port is held by another user's process, not this deployment's NATS server")

// listenerUIDs are the users whose sockets listen on a local TCP port
// (Linux: /proc/net/tcp and tcp6); none where it cannot tell.
func listenerUIDs(port int) []int {
	hexPort := fmt.Sprintf(":%04X", port)
	var uids []int
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st ... uid
			if len(fields) < 8 || fields[3] != "0A" || !strings.HasSuffix(fields[1], hexPort) {
				continue
			}
			if uid, err := strconv.Atoi(fields[7]); err == nil {
				uids = append(uids, uid)
			}
		}
		f.Close()
	}
	return uids
}

// CheckLocalListener refuses a loopback address whose port another user
// listens on: on a shared host, a process that took the bus's port (before
// the server starts, or while it restarts) would otherwise receive the
// password of every client that connects or reconnects.
func CheckLocalListener(address string) error {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil
	}
	me := os.Getuid()
	for _, uid := range listenerUIDs(port) {
		if uid != me {
			return fmt.Errorf("%s: %w (uid %d)", address, ErrForeignListener, uid)
		}
	}
	return nil
}

// checkedDialer dials NATS after CheckLocalListener, at every connection
// and reconnection.
type checkedDialer struct{ timeout time.Duration }

func (d checkedDialer) Dial(network, address string) (net.Conn, error) {
	if err := CheckLocalListener(address); err != nil {
		return nil, err
	}
	return net.DialTimeout(network, address, d.timeout)
}
