// Package platforms is the wire side of the marketplaces Harvest sells
// through (DOMAIN 6.2): each platform's own order format and signature
// scheme, turned into one staged Order. Push platforms (Yuedian-like,
// Meituan-like, Ele.me-like) call Harvest's public endpoint with a signed
// request carrying a timestamp (and, for Yuedian and Ele.me, a nonce);
// pull platforms answer Harvest's page requests (Douyin-like, each signed;
// Youzan-like, with an access token). Status changes go back on each
// platform's own status API, authenticated the same way.
//
// The partners stand-in builds its requests with these same functions: the
// formats are the platforms' published contracts, which both sides of a
// real integration code against; the stand-in checks what Harvest sends
// with them too (a wrong signature is refused there as a real platform
// would).
package platforms

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Platform names (the staged order's platform column).
const (
	Yuedian = "YUEDIAN" // group buying; pushes, HMAC-SHA256 with a nonce
	Meituan = "MEITUAN" // food delivery; pushes a form, MD5 over the sorted params
	Douyin  = "DOUYIN"  // live-stream shop; pulled page by page, HMAC-SHA256
	Eleme   = "ELEME"   // food delivery; pushes a JSON envelope, MD5 inside it, a request id
	Youzan  = "YOUZAN"  // online shop; pulled newest first, an access token it refreshes
)

// Ways orders arrive.
const (
	WayPush = "PUSH"
	WayPull = "PULL"
)

// WayOf is how name's orders arrive ("" for an unknown platform).
func WayOf(name string) string {
	switch name {
	case Yuedian, Meituan, Eleme:
		return WayPush
	case Douyin, Youzan:
		return WayPull
	}
	return ""
}

// Names lists every platform.
var Names = []string{Yuedian, Meituan, Douyin, Eleme, Youzan}

// Statuses a platform is told (once each per order).
const (
	StatusAccepted  = "ACCEPTED"
	StatusShipped   = "SHIPPED"
	StatusDelivered = "DELIVERED"
	StatusCancelled = "CANCELLED"
)

// Slot types, as OMS names them.
const (
	SlotExpress = "EXPRESS"
	SlotNextDay = "NEXT_DAY"
)

// Receiver is where an order goes.
type Receiver struct {
	Name, Phone, Province, City, District, Detail string
}

// Line is one line in the platform's SKU and price.
type Line struct {
	PlatformSKU  string
	Qty          int64
	UnitPriceFen int64
}

// Order is a platform order as Harvest stages it.
type Order struct {
	Platform        string
	PlatformOrderID string
	ShopID          string
	Receiver        Receiver
	SlotType        string
	SlotDate        string // YYYY-MM-DD, Asia/Shanghai
	TotalFen        int64
	PlatformTime    time.Time // created (push) or last updated (pull), on the platform's clock
	Lines           []Line
	Raw             []byte // what arrived, kept for operators
}

// ErrMalformed is a request that is not an order of the platform's
// format (refused at once, nothing stored). An order that parses but
// cannot be mapped (unknown SKU, bad address) is accepted and parked.
var ErrMalformed = errors.New("malformed order")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// MaxLines bounds one order's lines (a platform order of more is malformed).
const MaxLines = 100

// check is what every parsed order must have to be staged at all.
func (o *Order) check() error {
	switch {
	case o.PlatformOrderID == "" || len(o.PlatformOrderID) > 64:
		return malformed("order id missing or longer than 64")
	case len(o.Lines) == 0 || len(o.Lines) > MaxLines:
		return malformed("%d lines (1..%d)", len(o.Lines), MaxLines)
	case len(o.ShopID) > 64:
		return malformed("shop id longer than 64")
	}
	for i, l := range o.Lines {
		if l.PlatformSKU == "" || len(l.PlatformSKU) > 64 {
			return malformed("lines[%d]: sku missing or longer than 64", i)
		}
	}
	clip := func(s *string, n int) {
		if len(*s) > n {
			*s = (*s)[:n]
		}
	}
	clip(&o.Receiver.Name, 64)
	clip(&o.Receiver.Phone, 32)
	clip(&o.Receiver.Province, 64)
	clip(&o.Receiver.City, 64)
	clip(&o.Receiver.District, 64)
	clip(&o.Receiver.Detail, 255)
	clip(&o.SlotType, 16)
	clip(&o.SlotDate, 10)
	return nil
}

// Shanghai is the zone delivery dates are in.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// Keys are one platform's credentials: the app key it presents and the
// shared secret its signatures use.
type Keys struct {
	AppKey string
	Secret string
}

// Nonce returns a fresh random nonce.
func Nonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func hmacHex(secret, s string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// EqualSig compares signatures in constant time; an empty one never matches.
func EqualSig(a, b string) bool {
	return a != "" && b != "" && hmac.Equal([]byte(strings.ToLower(a)), []byte(strings.ToLower(b)))
}

// sortedPairs is "k1=v1&k2=v2" over p sorted by key, skipping skip.
func sortedPairs(p map[string]string, skip string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != skip {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(p[k])
	}
	return b.String()
}

// Stamp errors: the request's time is outside the window, or missing.
var (
	ErrStale     = errors.New("timestamp outside the window")
	ErrSignature = errors.New("signature does not verify")
	ErrAppKey    = errors.New("unknown app key")
)

// CheckTime reports ErrStale unless ts (unix seconds) is within window of now.
func CheckTime(ts string, now time.Time, window time.Duration) (time.Time, error) {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, fmt.Errorf("%w: %q is not unix seconds", ErrStale, ts)
	}
	t := time.Unix(n, 0)
	if d := now.Sub(t); d > window || d < -window {
		return t, fmt.Errorf("%w: %s off (window %s)", ErrStale, d.Round(time.Second), window)
	}
	return t, nil
}

// fen parses a decimal yuan amount ("57.5", "57.50") exactly.
func fen(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || strings.HasPrefix(whole, "-") {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return w*100 + f, true
}

// Yuan formats fen as a yuan amount with two decimals.
func Yuan(f int64) string { return fmt.Sprintf("%d.%02d", f/100, f%100) }

// DevKeys are the development credentials of every platform: channels'
// defaults in development and the partners stand-in's, refused by
// channels in production.
var DevKeys = map[string]Keys{
	Yuedian: {AppKey: "yd-dev-app", Secret: "dev-yuedian-secret-change-me"},
	Meituan: {AppKey: "mt-dev-app", Secret: "dev-meituan-secret-change-me"},
	Douyin:  {AppKey: "dy-dev-app", Secret: "dev-douyin-secret-change-me"},
	Eleme:   {AppKey: "48150001", Secret: "dev-eleme-secret-change-me"},
	Youzan:  {AppKey: "yz-dev-client", Secret: "dev-youzan-secret-change-me"},
}
