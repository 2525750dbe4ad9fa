package fetch

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/geopulse/geopulse"
)

// specialNets are the ranges that are not public unicast addresses beyond
// those the netip predicates already name. Several embed an IPv4 address
// (NAT64, 6to4, Teredo, IPv4-compatible) and could reach an internal host
// through a translating gateway.
var specialNets = []struct {
	prefix netip.Prefix
	rule   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "in \"this network\" 0.0.0.0/8"},
	{netip.MustParsePrefix("100.64.0.0/10"), "in the shared address space 100.64.0.0/10 (CGNAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "in 192.0.0.0/24, reserved for IETF protocols"},
	{netip.MustParsePrefix("198.18.0.0/15"), "in 198.18.0.0/15, reserved for benchmarks"},
	{netip.MustParsePrefix("240.0.0.0/4"), "in 240.0.0.0/4, reserved or broadcast"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible IPv6 address (::/96)"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address (64:ff9b::/96)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64 address (64:ff9b:1::/48)"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address (100::/64)"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address (2001::/32)"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address (2002::/16)"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address (fec0::/10)"},
}

// specialUse names the rule that makes ip not a public unicast address, as
// a phrase that follows "<ip> is", or returns "" for a public one. IPv4-mapped IPv6 addresses are judged as the
// IPv4 address they carry.
func specialUse(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	switch {
	case !ip.IsValid():
		return "not an IP address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast():
		return "a link-local address, where cloud metadata services live"
	case ip.IsMulticast():
		return "a multicast address"
	}
	for _, n := range specialNets {
		if n.prefix.Contains(ip) {
			return n.rule
		}
	}
	return ""
}

// refusal names the rule that forbids connecting to ip under f's
// configuration, or returns "" when the connection is allowed.
func (f *Fetcher) refusal(ip netip.Addr) string {
	if f.cfg.AllowPrivate {
		return ""
	}
	ip = ip.WithZone("")
	for _, p := range f.cfg.AllowNets {
		if p.Contains(ip) || p.Contains(ip.Unmap()) {
			return ""
		}
	}
	return specialUse(ip)
}

// trustedHost reports whether host is in AllowHosts, whose addresses are
// then not checked.
func (f *Fetcher) trustedHost(host string) bool {
	_, ok := f.hosts[normalizeHost(host)]
	return ok
}

func normalizeHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// dialContext is the transport's only way out. It resolves the host itself
// and dials the IPs it got, so the address checked is the address connected
// to; the dialer's Control hook checks again on the socket, which also covers
// any path that reaches the dialer with an address not seen here.
func (f *Fetcher) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, permanent(geopulse.EINVALID, ReasonRefusedURL, err, "malformed media address %q", addr)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, permanent(geopulse.EINVALID, ReasonRefusedURL, err, "malformed media port %q", portStr)
	}
	trusted := f.trustedHost(host)
	if tld := reserved(host); tld != "" && !trusted {
		// Never in the public DNS: asking a resolver only waits.
		return nil, permanent(geopulse.ENOTFOUND, ReasonUnavailable, nil, "media host %s is under the reserved name .%s", host, tld)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = f.lookup(ctx, host); err != nil {
		return nil, err
	}
	for i := range ips {
		ips[i] = ips[i].Unmap() // resolvers may hand IPv4 back in IPv6 form
	}
	var refused []string
	var lastErr error
	for _, ip := range ips {
		if !trusted {
			if rule := f.refusal(ip); rule != "" {
				refused = append(refused, ip.String()+" is "+rule)
				continue
			}
		}
		conn, err := f.dial(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String(), trusted)
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if len(refused) == 0 {
		return nil, permanent(geopulse.ENOTFOUND, ReasonUnavailable, nil, "media host %s has no address", host)
	}
	return nil, permanent(geopulse.EINVALID, ReasonRefusedAddress, nil,
		"refused media host %s: %s", host, strings.Join(refused, "; "))
}

// dialIP connects to one IP:port; only trusted hosts skip the socket check.
func (f *Fetcher) dialIP(ctx context.Context, network, address string, trusted bool) (net.Conn, error) {
	d := net.Dialer{}
	if !trusted {
		d.Control = f.control
	}
	return d.DialContext(ctx, network, address)
}

// control runs on the socket before connect, with the numeric address the
// kernel is about to connect to.
func (f *Fetcher) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return permanent(geopulse.EINVALID, ReasonRefusedAddress, err, "refused to connect to unparsable address %q", address)
	}
	if rule := f.refusal(ap.Addr()); rule != "" {
		return permanent(geopulse.EINVALID, ReasonRefusedAddress, nil, "refused to connect to %s: it is %s", ap.Addr(), rule)
	}
	return nil
}
