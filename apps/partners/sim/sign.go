package sim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Signature schemes of the two channels, as their merchant documentation
// states them (see wechat.go and alipay.go for the shapes).

func hmacSHA256(key, s string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(s))
	return m.Sum(nil)
}

// wechatRequestSign: hex(HMAC-SHA256(key, METHOD\nPATH\nTIMESTAMP\nNONCE\nRESOURCE\n)).
func wechatRequestSign(key, method, path string, ts int64, nonce, resource string) string {
	return hex.EncodeToString(hmacSHA256(key, method+"\n"+path+"\n"+strconv.FormatInt(ts, 10)+"\n"+nonce+"\n"+resource+"\n"))
}

// wechatCallbackSign: hex(HMAC-SHA256(key, TIMESTAMP\nNONCE\nRESOURCE\n)).
func wechatCallbackSign(key string, ts int64, nonce, resource string) string {
	return hex.EncodeToString(hmacSHA256(key, strconv.FormatInt(ts, 10)+"\n"+nonce+"\n"+resource+"\n"))
}

// alipaySign: base64(HMAC-SHA256(key, k1=v1&k2=v2…)) over the non-empty
// parameters but sign (and sign_type, for callbacks), sorted by key.
func alipaySign(key string, p map[string]string, callback bool) string {
	keys := make([]string, 0, len(p))
	for k, v := range p {
		if k == "sign" || v == "" || (callback && k == "sign_type") {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p[k]
	}
	return base64.StdEncoding.EncodeToString(hmacSHA256(key, strings.Join(parts, "&")))
}

func alipayRawSign(key string, raw []byte) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256(key, string(raw)))
}

func equalSig(a, b string) bool { return a != "" && hmac.Equal([]byte(a), []byte(b)) }

func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var beijing = time.FixedZone("CST", 8*3600)

const alipayLayout = "2006-01-02 15:04:05"

func yuan(fen int64) string {
	return strconv.FormatInt(fen/100, 10) + "." + pad2(fen%100)
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// parseYuan reads "12", "12.5" or "12.05" exactly.
func parseYuan(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || f < 0 {
		return 0, false
	}
	return w*100 + f, true
}
