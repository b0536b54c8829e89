package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/channels/store"
)

// Pulling a pull platform (DOMAIN 6.2, Douyin-like; Youzan's newest-first
// walk is in youzan.go).
//
// The cursor is the latest update time seen, on the platform's clock
// (never Harvest's, so the two clocks' skew does not matter), and moves
// in the same transaction as the page it follows: a crash between
// fetching a page and that commit leaves the cursor where it was, and the
// next run fetches the page again. Each page is asked from the cursor
// (inclusive) rather than by an offset that later pages would shift, and
// each run starts PullOverlap before the cursor: an order the platform's
// index shows late, with an update time already behind the cursor, is
// still read. Everything read twice is staged once, by the platform's
// order id. One replica pulls a platform at a time (a MariaDB named lock;
// another run returns at once).

// PullResult says what one run took.
type PullResult struct {
	Pages, Seen, Taken int
	Since              time.Time
	Skipped            bool // another run held the platform
}

// Pull runs one pull of platform.
func (s *Service) Pull(ctx context.Context, platform string) (PullResult, error) {
	var res PullResult
	if platforms.WayOf(platform) != platforms.WayPull {
		return res, fmt.Errorf("%s is not a pull platform", platform)
	}
	k, ok := s.Keys(platform)
	if !ok {
		return res, fmt.Errorf("no keys for %s", platform)
	}
	conn, err := s.d.Store.DB().Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	var got sql.NullInt64
	// A named lock is the server's, not the database's: scoped by the
	// database, so two Harvest environments (or a test and a stack) on one
	// MariaDB server do not skip each other's pulls.
	lock := "channels.pull." + platform
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(CONCAT(?, ':', DATABASE()), 0)`, lock).Scan(&got); err != nil {
		return res, err
	}
	if got.Int64 != 1 {
		res.Skipped = true
		return res, nil
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT RELEASE_LOCK(CONCAT(?, ':', DATABASE()))`, lock) //nolint:errcheck
	if platform == platforms.Youzan {
		return s.walkYouzan(ctx, platform, k)
	}

	cursor, err := s.d.Store.Cursor(ctx, platform)
	if err != nil {
		return res, err
	}
	if cursor.IsZero() {
		cursor = s.d.Clock.Now().Add(-s.d.PullFrom)
	}
	from := cursor.Add(-s.d.PullOverlap)
	end := s.d.Clock.Now().Add(time.Hour) // the platform's clock may run ahead of ours
	page := 0
	for {
		list, err := s.fetch(ctx, platform, k, from, end, page)
		if err != nil {
			return res, err
		}
		res.Pages++
		if s.d.AfterFetch != nil {
			if err := s.d.AfterFetch(platform, res.Pages); err != nil {
				return res, err
			}
		}
		items := make([]*store.Item, 0, len(list))
		latest := cursor
		now := s.now()
		for _, w := range list {
			o, err := platforms.FromDouyin(w)
			if err != nil {
				s.d.Logger.Warn("pulled order skipped", "platform", platform, "order", w.OrderID, "err", err)
				continue
			}
			items = append(items, &store.Item{Order: o, Way: platforms.WayPull, At: now})
			if o.PlatformTime.After(latest) {
				latest = o.PlatformTime
			}
		}
		taken, err := s.d.Store.TakePage(ctx, platform, items, latest, now)
		if err != nil {
			return res, err
		}
		res.Seen += len(list)
		res.Taken += taken
		if taken > 0 {
			s.d.Notify()
		}
		if len(list) < s.d.PullPage {
			break
		}
		// The next page from the latest update time seen; a full page all
		// of one update time moves on by offset instead, or it would be
		// asked for again and again.
		if latest.After(from) && !latest.Equal(cursor) {
			from, page = latest, 0
		} else {
			page++
		}
		cursor = latest
	}
	res.Since = cursor
	return res, nil
}

// fetch asks the platform for one page.
func (s *Service) fetch(ctx context.Context, platform string, k platforms.Keys, from, end time.Time, page int) ([]platforms.DouyinOrder, error) {
	q := url.Values{}
	q.Set("start_time", strconv.FormatInt(from.UnixMilli(), 10))
	q.Set("end_time", strconv.FormatInt(end.UnixMilli(), 10))
	q.Set("page", strconv.Itoa(page))
	q.Set("size", strconv.Itoa(s.d.PullPage))
	platforms.SignDouyinQuery(q, k, s.d.Clock.Now())
	code, body, err := s.d.Outside.InvokeRaw(ctx, s.d.PlatformApp[platform], "GET", platforms.PullPathDouyin[1:]+"?"+q.Encode(), nil, nil)
	if err != nil {
		return nil, err
	}
	var p platforms.DouyinPage
	if code != 200 || json.Unmarshal(body, &p) != nil || p.ErrNo != 0 {
		return nil, fmt.Errorf("%w: %s search: HTTP %d: %.200s", errPull, platform, code, body)
	}
	return p.Data.List, nil
}

var errPull = errors.New("pull failed")
