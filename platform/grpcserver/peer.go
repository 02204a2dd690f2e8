package grpcserver

import (
	"context"
	"net"
	"net/netip"

	"google.golang.org/grpc/peer"
)

// Caller is the network address a call came from, without its port (""
// when unknown).
func Caller(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	return Host(p.Addr.String())
}

// Host is an address ("host:port", as a connection gives it) without its
// port; anything else as it is.
func Host(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// Subscriber is what a per-address limit counts an address under: an
// IPv4 address as it is, an IPv6 one by its /64, the block one subscriber
// is usually given (or each attempt could come from an address of its
// own). Anything else (no address, a socket path) is kept as given.
func Subscriber(address string) string {
	ip, err := netip.ParseAddr(address)
	if err != nil {
		return address
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip.WithZone(""), 64).Masked().String()
}
