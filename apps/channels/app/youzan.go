package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/channels/store"
)

// Pulling a newest-first platform (DOMAIN 6.2, Youzan-like).
//
// Youzan pages newest first by page number, so neither a cursor moved
// page by page (the pages go back in time) nor an offset walk (an order
// updated or indexed during the walk shifts every later page, and one
// order would slip past between two pages) would do. A walk instead goes
// down from the newest order to the cursor by the update time itself:
// each page is asked for [from, end] with end the oldest update time the
// previous page held (included again, so the orders of that second are
// read whole), page 1, unless a full page is all of one second, when the
// next page of that second is asked. An order updated during the walk
// leaves for the top, above anything this walk reads, and the next walk
// starts from this one's newest update time; an order indexed late lies
// within the overlap the next walk reads again. Each page is stored with
// where the walk goes next in one transaction, so a run killed between
// fetching a page and that commit asks the same page again; only the
// walk's last page moves the cursor. All times are the platform's (the
// orders' update times), never Harvest's clock, except the first walk's
// start. Everything read twice is staged once, by the platform's order
// id.

// youzanOpenEnd is how far past Harvest's now a walk's first page reaches:
// the platform's clock may run ahead of ours.
const youzanOpenEnd = 24 * time.Hour

func (s *Service) walkYouzan(ctx context.Context, platform string, k platforms.Keys) (PullResult, error) {
	var res PullResult
	w, err := s.d.Store.Walk(ctx, platform)
	if err != nil {
		return res, err
	}
	if !w.Active {
		since := w.Since
		if since.IsZero() {
			since = s.d.Clock.Now().Add(-s.d.PullFrom).UTC().Truncate(time.Second)
		}
		w = store.Walk{Since: w.Since, Active: true, From: since.Add(-s.d.PullOverlap), Page: 1,
			End: s.d.Clock.Now().Add(youzanOpenEnd).UTC().Truncate(time.Second)}
	}
	size := min(s.d.PullPage, platforms.YouzanMaxPage)
	for w.Active {
		if w.Page*size > platforms.YouzanMaxDepth {
			return res, fmt.Errorf("%w: %s: more than %d orders updated in the second %s, past the platform's paging depth",
				errPull, platform, platforms.YouzanMaxDepth, w.End.Format(time.RFC3339))
		}
		list, err := s.fetchYouzan(ctx, platform, k, w, size)
		if err != nil {
			return res, err
		}
		res.Pages++
		if s.d.AfterFetch != nil {
			if err := s.d.AfterFetch(platform, res.Pages); err != nil {
				return res, err
			}
		}
		next, now := w, s.now()
		var oldest time.Time
		items := make([]*store.Item, 0, len(list))
		for _, t := range list {
			if at, err := platforms.ParseYouzanTime(t.FullOrderInfo.OrderInfo.UpdateTime); err == nil {
				if at.After(next.Top) {
					next.Top = at
				}
				if oldest.IsZero() || at.Before(oldest) {
					oldest = at
				}
			}
			o, err := platforms.FromYouzan(t)
			if err != nil {
				s.d.Logger.Warn("pulled order skipped", "platform", platform, "order", t.FullOrderInfo.OrderInfo.Tid, "err", err)
				continue
			}
			items = append(items, &store.Item{Order: o, Way: platforms.WayPull, At: now})
		}
		switch {
		case len(list) < size: // the bottom: the walk is done, the cursor moves
			next.Active = false
			if next.Top.After(next.Since) {
				next.Since = next.Top
			}
		case !oldest.IsZero() && oldest.Before(w.End):
			next.End, next.Page = oldest, 1
		default: // a full page of one second
			next.Page++
		}
		taken, err := s.d.Store.TakeWalkPage(ctx, platform, items, next, now)
		if err != nil {
			return res, err
		}
		res.Seen += len(list)
		res.Taken += taken
		if taken > 0 {
			s.d.Notify()
		}
		w = next
	}
	res.Since = w.Since
	return res, nil
}

// fetchYouzan asks for one page of the walk.
func (s *Service) fetchYouzan(ctx context.Context, platform string, k platforms.Keys, w store.Walk, size int) ([]platforms.YouzanTrade, error) {
	code, body, err := s.withYouzanToken(ctx, platform, k, func(token string) (int, []byte, error) {
		q := platforms.YouzanPageQuery(token, w.From, w.End, w.Page, size)
		return s.d.Outside.InvokeRaw(ctx, s.d.PlatformApp[platform], "GET", platforms.PullPathYouzan[1:]+"?"+q.Encode(), nil, nil)
	})
	if err != nil {
		return nil, err
	}
	var p platforms.YouzanPage
	if code != 200 || json.Unmarshal(body, &p) != nil || !p.Success || p.Code != platforms.YzOK {
		return nil, fmt.Errorf("%w: %s trades page %d: HTTP %d: %.200s", errPull, platform, w.Page, code, body)
	}
	return p.Data.FullOrderInfoList, nil
}

// tokens holds the access token of a platform that takes one (Youzan),
// shared by the pull and the status calls. Its expiry is on the
// platform's clock, not Harvest's, so it is not trusted: a call the
// platform answers YzTokenInvalid drops the token it used, a new one is
// asked, and the call is made once more.
type tokens struct {
	mu    sync.Mutex
	token string
}

// withYouzanToken makes call with the platform's access token, asking for
// one first when there is none, and again once when the platform no
// longer knows the one used.
func (s *Service) withYouzanToken(ctx context.Context, platform string, k platforms.Keys, call func(token string) (int, []byte, error)) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		tok, err := s.youzanToken(ctx, platform, k)
		if err != nil {
			return 0, nil, err
		}
		code, body, err := call(tok)
		if err != nil {
			return code, body, err
		}
		var env platforms.YouzanEnvelope
		if json.Unmarshal(body, &env) == nil && env.Code == platforms.YzTokenInvalid && attempt == 0 {
			s.tok.mu.Lock()
			if s.tok.token == tok { // another call may have renewed it already
				s.tok.token = ""
			}
			s.tok.mu.Unlock()
			continue
		}
		return code, body, nil
	}
}

func (s *Service) youzanToken(ctx context.Context, platform string, k platforms.Keys) (string, error) {
	s.tok.mu.Lock()
	defer s.tok.mu.Unlock()
	if s.tok.token != "" {
		return s.tok.token, nil
	}
	req, _ := json.Marshal(platforms.YouzanTokenRequest{ClientID: k.AppKey, ClientSecret: k.Secret, AuthorizeType: "silent"})
	code, body, err := s.d.Outside.InvokeRaw(ctx, s.d.PlatformApp[platform], "POST", platforms.TokenPathYouzan[1:],
		map[string]string{"Content-Type": "application/json"}, req)
	if err != nil {
		return "", fmt.Errorf("%s access token: %w", platform, err)
	}
	var t platforms.YouzanToken
	if code != 200 || json.Unmarshal(body, &t) != nil || !t.Success || strings.TrimSpace(t.Data.AccessToken) == "" {
		return "", fmt.Errorf("%w: %s access token: HTTP %d: %.200s", errPull, platform, code, body)
	}
	s.tok.token = t.Data.AccessToken
	return s.tok.token, nil
}
