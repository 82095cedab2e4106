package app

import (
	"net/netip"
	"net/url"
	"strings"
)

// An alert's destination is a URL on someone else's server that agentdeck
// calls: it must not become a way to reach what only the server can reach
// (its own loopback, the private network it sits in, a cloud's metadata
// address). Destinations are checked when an alert is made, for what the URL
// says, and again on every request, for the addresses its name resolves to
// then (see package alerts), so that a name that later resolves elsewhere
// gains nothing.

// maxDestinationLen bounds a destination URL.
const maxDestinationLen = 2048

// CheckDestination reads an alert's destination: an absolute https URL
// without credentials, whose host is not a private, loopback or link-local
// address or a name for one, unless private destinations are allowed
// (AGENTDECK_ALLOW_PRIVATE_WEBHOOKS). It returns the URL as it will be
// called.
func CheckDestination(raw string, allowPrivate bool) (string, error) {
	raw = strings.TrimSpace(raw)
	bad := func(why string) (string, error) { return "", Errorf(EInvalid, "url", "%s", why) }
	if raw == "" {
		return bad("a destination URL is required")
	}
	if len(raw) > maxDestinationLen || !IsCleanText(raw) {
		return bad("the destination URL is too long or not text")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return bad("the destination must be an absolute URL, such as https://hooks.slack.com/services/…")
	case u.Scheme != "https":
		return bad("the destination must use https, so that what is sent cannot be read or changed on its way")
	case u.User != nil:
		return bad("the destination URL cannot carry a user name or password")
	case u.Fragment != "":
		return bad("the destination URL cannot have a #fragment")
	}
	if !allowPrivate && privateHost(u.Hostname()) {
		return bad("the destination is a private, loopback or link-local address, which alerts may not call")
	}
	return u.String(), nil
}

// privateHost reports whether a URL's host names this machine or a private
// network by itself: a private address, or a name reserved for local use.
func privateHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if ip, err := netip.ParseAddr(host); err == nil {
		return PrivateAddress(ip)
	}
	if host == "localhost" || !strings.Contains(host, ".") {
		return true
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".home.arpa", ".lan"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

// nonPublic are the ranges besides those netip names that no public service
// answers on: this network, shared address space (carrier NAT), IETF
// protocol assignments, benchmarking, reserved, and the IPv6 prefixes that
// embed an IPv4 address (NAT64, 6to4) or are reserved for documentation.
var nonPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001:db8::/32", "100::/64"} {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}()

// PrivateAddress reports whether an alert may not call ip unless private
// destinations are allowed: a loopback, private, link-local, multicast,
// unspecified or otherwise non-public address, IPv4 written as IPv6
// included.
func PrivateAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || !ip.IsValid() {
		return true
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
