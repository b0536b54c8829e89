package sim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// The Youzan-like shop: it issues access tokens for its client id and
// secret (each lasting YouzanTokenTTL on its clock, forgotten after),
// pages its orders newest first to a caller with a live token, its update
// times to the second on its own clock (YouzanSkew from this machine's),
// shown by its search only YouzanLag after an update. Its token and
// search APIs take their latency and obey the fault switches
// ("market.token", "market.search": slow and failing pages).

// APIMarketToken is the token API's name for latency and faults.
const APIMarketToken = "market.token"

func (s *Server) youzanNow() time.Time { return s.clk.Now().Add(s.cfg.YouzanSkew) }

func (s *Server) youzanAnswer(w http.ResponseWriter, code int, msg string) {
	httpapi.WriteJSON(w, http.StatusOK, platforms.YouzanEnvelope{Success: code == platforms.YzOK, Code: code, Message: msg})
}

func (s *Server) youzanToken(w http.ResponseWriter, r *http.Request) {
	if !s.enter(w, r, APIMarketToken) {
		return
	}
	var in platforms.YouzanTokenRequest
	k := s.cfg.MarketKeys[platforms.Youzan]
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ClientID != k.AppKey || !platforms.EqualSig(in.ClientSecret, k.Secret) {
		s.youzanAnswer(w, platforms.YzBadClient, "client_id or client_secret is wrong")
		return
	}
	var t platforms.YouzanToken
	t.Success, t.Code, t.Message = true, platforms.YzOK, "successful"
	t.Data.AccessToken = platforms.Nonce() + platforms.Nonce()[:8]
	exp := s.youzanNow().Add(s.cfg.YouzanTokenTTL)
	t.Data.Expires = exp.UnixMilli()
	if _, err := s.db.ExecContext(r.Context(), `INSERT INTO youzan_tokens (token, expires_at) VALUES (?,?)`, t.Data.AccessToken, exp); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, t)
}

// youzanLive reports whether token is one the shop issued and still knows.
func (s *Server) youzanLive(r *http.Request, token string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM youzan_tokens WHERE token=? AND expires_at > ?`, token, s.youzanNow()).Scan(&n)
	return n == 1, err
}

func (s *Server) youzanSearch(w http.ResponseWriter, r *http.Request) {
	if !s.enter(w, r, APIMarketSearch) {
		return
	}
	q := r.URL.Query()
	if ok, err := s.youzanLive(r, q.Get("access_token")); err != nil {
		httpapi.WriteError(w, r, err)
		return
	} else if !ok {
		s.youzanAnswer(w, platforms.YzTokenInvalid, "access_token is invalid or expired")
		return
	}
	start, err1 := platforms.ParseYouzanTime(q.Get("update_time_start"))
	end, err2 := platforms.ParseYouzanTime(q.Get("update_time_end"))
	page, _ := strconv.Atoi(q.Get("page_no"))
	size, _ := strconv.Atoi(q.Get("page_size"))
	if err1 != nil || err2 != nil || page < 1 || size < 1 || size > platforms.YouzanMaxPage {
		s.youzanAnswer(w, platforms.YzBadParam, "update_time_start/end as yyyy-MM-dd HH:mm:ss, page_no from 1, page_size 1..100")
		return
	}
	if page*size > platforms.YouzanMaxDepth {
		s.youzanAnswer(w, platforms.YzTooDeep, "page_no × page_size may not pass 3000")
		return
	}
	// Stored in UTC; the window's ends are included, to the second.
	bodies, err := sqltx.Strings(r.Context(), s.db, `SELECT body FROM youzan_orders WHERE update_time >= ? AND update_time <= ? AND visible_at <= ?
		ORDER BY update_time DESC, tid DESC LIMIT ? OFFSET ?`, start, end, s.clk.Now(), size, (page-1)*size)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	var total int
	if err := s.db.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM youzan_orders WHERE update_time >= ? AND update_time <= ? AND visible_at <= ?`,
		start, end, s.clk.Now()).Scan(&total); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	var p platforms.YouzanPage
	p.Success, p.Code, p.Message, p.Data.TotalResults = true, platforms.YzOK, "successful", total
	p.Data.FullOrderInfoList = make([]platforms.YouzanTrade, 0, len(bodies))
	for _, b := range bodies {
		var t platforms.YouzanTrade
		if err := json.Unmarshal([]byte(b), &t); err == nil {
			p.Data.FullOrderInfoList = append(p.Data.FullOrderInfoList, t)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

// YouzanAdd adds (or updates) orders of the Youzan-like shop.
type YouzanAdd struct {
	Orders []MarketOrder `json:"orders"`
}

func (s *Server) youzanAdd(w http.ResponseWriter, r *http.Request) {
	var in YouzanAdd
	if err := httpapi.Decode(r, &in); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	visible := s.clk.Now().Add(s.cfg.YouzanLag)
	for _, m := range in.Orders {
		if m.ID == "" || len(m.Lines) == 0 {
			httpapi.WriteError(w, r, rejected("orders", "an order needs an id and lines"))
			return
		}
		at := s.youzanNow().Add(-m.UpdatedAgo).Truncate(time.Second)
		o := s.marketOrder(platforms.Youzan, m, at)
		o.ShopID = "91000001"
		b, _ := json.Marshal(platforms.ToYouzan(o, at))
		if _, err := s.db.ExecContext(r.Context(), `INSERT INTO youzan_orders (tid, update_time, visible_at, body) VALUES (?,?,?,?)
			ON DUPLICATE KEY UPDATE update_time=VALUES(update_time), visible_at=VALUES(visible_at), body=VALUES(body)`,
			m.ID, at.UTC(), visible, string(b)); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"added": len(in.Orders)})
}

// youzanStatusToken refuses a Youzan status call whose token the shop
// does not know (its answer written), as the platform would.
func (s *Server) youzanStatusToken(w http.ResponseWriter, r *http.Request, token string) bool {
	ok, err := s.youzanLive(r, token)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return false
	}
	if !ok {
		s.youzanAnswer(w, platforms.YzTokenInvalid, "access_token is invalid or expired")
	}
	return ok
}
