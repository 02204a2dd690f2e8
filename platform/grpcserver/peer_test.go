package grpcserver

import "testing"

func TestAnAddressIsCountedByItsSubscriberBlock(t *testing.T) {
	for address, key := range map[string]string{
		"192.0.2.7":                  "192.0.2.7",
		"::ffff:192.0.2.7":           "192.0.2.7",
		"2001:db8:1:2:aaaa::1":       "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::9":  "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::99": "2001:db8:1:2::/64",
		"fe80::1%eth0":               "fe80::/64",
		"2001:db8:1:3::1":            "2001:db8:1:3::/64",
		"":                           "",
		"@":                          "@",
	} {
		if got := Subscriber(address); got != key {
			t.Errorf("Subscriber(%q) = %q, want %q", address, got, key)
		}
	}
	for addr, host := range map[string]string{"192.0.2.7:5443": "192.0.2.7", "[2001:db8::1]:80": "2001:db8::1", "@": "@"} {
		if got := Host(addr); got != host {
			t.Errorf("Host(%q) = %q, want %q", addr, got, host)
		}
	}
}
