package app

// Coupon campaigns issued by staff (DOMAIN 3.2). Issuing is a chain of
// messages, each handled exactly once (inbox) by whichever instance gets
// it: launching writes marketing.campaign.launched in the launch's
// transaction; its consumer reads one page of BI's export at the
// campaign's cursor and, in one transaction, writes one
// marketing.campaign.user-matched per user, the next page's message and
// the new cursor (a crash re-reads the same page, and a stale message
// finds the cursor moved); the user consumer binds the coupon, taking
// campaign stock under the campaign row's lock, counting what it did in
// the same transaction; a notifying campaign's grants each send one SMS.

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/harvest/harvest/apps/marketing/domain"
	"github.com/harvest/harvest/apps/marketing/events"
	pc "github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// InboxClaim names a consumed message whose effect must happen once.
type InboxClaim struct {
	Consumer string
	MsgID    string
}

// Inbox names of the campaign consumers.
const (
	ConsumerCampaignPage = "marketing.campaign-page"
	ConsumerUserMatched  = "marketing.user-matched"
	ConsumerCouponSMS    = "marketing.coupon-sms"
)

// CampaignRepository is what coupon campaigns need persisted
// (apps/marketing/store implements it).
type CampaignRepository interface {
	// CreateCouponCampaign stores c with its exclusions; its template must
	// exist and bind. A key used before returns that campaign's id (same
	// hash) or domain.ErrKeyReused.
	CreateCouponCampaign(ctx context.Context, c domain.CouponCampaign, key, hash string) (string, error)
	CouponCampaign(ctx context.Context, id string) (domain.CouponCampaign, error)
	CouponCampaigns(ctx context.Context, before string, limit int) ([]domain.CouponCampaign, error)
	// UpdateCouponCampaign locks the campaign, calls fn, saves its status
	// and writes the events fn returns, in one transaction.
	UpdateCouponCampaign(ctx context.Context, id string, fn func(c *domain.CouponCampaign) ([]outbox.Event, error)) (domain.CouponCampaign, error)
	// Parked lists up to limit users parked while the campaign was paused.
	Parked(ctx context.Context, campaignID string, limit int) ([]events.UserMatched, error)
	// ApplyPage records one step of a campaign's reading, once per message
	// and only while the campaign is RUNNING at cursor from: the parked
	// users it re-emits (deleted), or BI's page (users, the next cursor,
	// done), with the events step returns. False: stale or paused, nothing
	// written.
	ApplyPage(ctx context.Context, claim InboxClaim, campaignID, from string, s PageStep,
		step func(c domain.CouponCampaign) []outbox.Event) (bool, error)
	// GrantUsers binds the campaign coupons of fresh user messages, once
	// each, taking stock under the campaign's lock; granted returns the
	// events a grant writes (its SMS). It returns one outcome per message.
	GrantUsers(ctx context.Context, msgIDs []string, users []events.UserMatched, now time.Time,
		granted func(c domain.CouponCampaign, u events.UserMatched, couponID string) []outbox.Event) ([]Outcome, error)
	// CountSMS counts one SMS sent for a campaign, once per message.
	CountSMS(ctx context.Context, claim InboxClaim, campaignID string) error
}

// PageStep is what one page message does: re-emit parked users, or apply
// BI's page.
type PageStep struct {
	Parked     []events.UserMatched // re-emitted and deleted (Users empty)
	Users      []pc.AudienceUser
	NextCursor string
	Done       bool
}

// Outcome is what a user message did.
type Outcome string

// Outcomes of a user message.
const (
	OutcomeGranted  Outcome = "GRANTED"
	OutcomeExcluded Outcome = "EXCLUDED"
	OutcomeAlready  Outcome = "ALREADY"
	OutcomeNoStock  Outcome = "NO_STOCK"
	OutcomeFailed   Outcome = "FAILED"
	OutcomeParked   Outcome = "PARKED"    // the campaign is paused
	OutcomeDropped  Outcome = "CANCELLED" // the campaign was cancelled
	OutcomeRepeat   Outcome = "REPEAT"    // handled before
)

// BI is BI's audience export (partnersclient.Client fits).
type BI interface {
	ExportAudience(ctx context.Context, r pc.AudienceRequest) (pc.AudiencePage, error)
}

// SMS is the SMS gateway (partnersclient.Client fits).
type SMS interface {
	SendSMS(ctx context.Context, m pc.SMS) (pc.Receipt, error)
}

// Campaigns runs the coupon campaign use cases.
type Campaigns struct {
	store    CampaignRepository
	bi       BI
	sms      SMS
	clock    clock.Clock
	log      *slog.Logger
	notify   func()
	PageSize int
}

// NewCampaigns returns the use cases; notify wakes the outbox relay.
func NewCampaigns(st CampaignRepository, bi BI, sms SMS, clk clock.Clock, notify func(), log *slog.Logger) *Campaigns {
	if log == nil {
		log = slog.Default()
	}
	if notify == nil {
		notify = func() {}
	}
	return &Campaigns{store: st, bi: bi, sms: sms, clock: clk, log: log, notify: notify, PageSize: 1_000}
}

func (c *Campaigns) now() time.Time { return c.clock.Now().UTC().Truncate(time.Microsecond) }

// Create stores a campaign with its conditions, exclusions and gift.
func (c *Campaigns) Create(ctx context.Context, key string, spec domain.CouponCampaignSpec) (domain.CouponCampaign, error) {
	if err := checkKey(key, false); err != nil {
		return domain.CouponCampaign{}, err
	}
	cc, err := domain.NewCouponCampaign(ids.New(), spec, c.now())
	if err != nil {
		return domain.CouponCampaign{}, err
	}
	id, err := c.store.CreateCouponCampaign(ctx, cc, key, domain.RequestHash(cc.Spec()))
	if err != nil {
		return domain.CouponCampaign{}, err
	}
	return c.store.CouponCampaign(ctx, id)
}

// Get returns one campaign with its progress.
func (c *Campaigns) Get(ctx context.Context, id string) (domain.CouponCampaign, error) {
	return c.store.CouponCampaign(ctx, id)
}

// List lists campaigns newest first.
func (c *Campaigns) List(ctx context.Context, before string, limit int) ([]domain.CouponCampaign, error) {
	if limit <= 0 || limit > 500 {
		return nil, invalid("limit must be 1..500")
	}
	return c.store.CouponCampaigns(ctx, before, limit)
}

func pageEvent(topic, id, cursor string) outbox.Event {
	return outbox.Event{Topic: topic, AggregateID: id, Type: topic + ".v1", Payload: events.CampaignPage{CampaignID: id, Cursor: cursor}}
}

func (c *Campaigns) transition(ctx context.Context, id string, move func(cc *domain.CouponCampaign, now time.Time) error, start bool) (domain.CouponCampaign, error) {
	now := c.now()
	out, err := c.store.UpdateCouponCampaign(ctx, id, func(cc *domain.CouponCampaign) ([]outbox.Event, error) {
		if err := move(cc, now); err != nil {
			return nil, err
		}
		if start {
			return []outbox.Event{pageEvent(events.TopicCampaignLaunched, cc.ID(), cc.Cursor())}, nil
		}
		return nil, nil
	})
	if err == nil && start {
		c.notify()
	}
	return out, err
}

// Launch starts issuing: the launched message is written with the status.
func (c *Campaigns) Launch(ctx context.Context, id string) (domain.CouponCampaign, error) {
	return c.transition(ctx, id, (*domain.CouponCampaign).Launch, true)
}

// Pause stops issuing: pages stop being read and users arriving are
// parked until Resume.
func (c *Campaigns) Pause(ctx context.Context, id string) (domain.CouponCampaign, error) {
	return c.transition(ctx, id, (*domain.CouponCampaign).Pause, false)
}

// Resume goes on from the cursor, parked users first.
func (c *Campaigns) Resume(ctx context.Context, id string) (domain.CouponCampaign, error) {
	return c.transition(ctx, id, (*domain.CouponCampaign).Resume, true)
}

// Cancel stops issuing for good; coupons bound stay bound.
func (c *Campaigns) Cancel(ctx context.Context, id string) (domain.CouponCampaign, error) {
	return c.transition(ctx, id, (*domain.CouponCampaign).Cancel, false)
}

// OnPage is the consumer of launched and paged messages: one step of
// reading the campaign's users. BI's failure is returned (the message is
// retried from the same cursor); a stale or paused step changes nothing.
func (c *Campaigns) OnPage(ctx context.Context, msgID string, ev events.CampaignPage) error {
	cc, err := c.store.CouponCampaign(ctx, ev.CampaignID)
	if err != nil {
		return err
	}
	if !cc.Issuing() || cc.Cursor() != ev.Cursor || cc.BIDone() {
		return nil // stale, paused, cancelled or done: the message that matters is another
	}
	var step PageStep
	parked, err := c.store.Parked(ctx, cc.ID(), c.PageSize)
	if err != nil {
		return err
	}
	if len(parked) > 0 {
		step.Parked = parked
	} else {
		spec := cc.Spec()
		page, err := c.bi.ExportAudience(ctx, pc.AudienceRequest{Conditions: pc.AudienceConditions{MinOrders: spec.Audience.MinOrders,
			Cities: spec.Audience.Cities}, Cursor: cc.Cursor(), Limit: c.PageSize})
		if err != nil {
			return fmt.Errorf("read BI's page of campaign %s at %q: %w", cc.ID(), cc.Cursor(), err)
		}
		step.Users, step.NextCursor, step.Done = page.Users, page.NextCursor, page.Done
	}
	ok, err := c.store.ApplyPage(ctx, InboxClaim{Consumer: ConsumerCampaignPage, MsgID: msgID}, cc.ID(), ev.Cursor, step,
		func(cur domain.CouponCampaign) []outbox.Event {
			evs := make([]outbox.Event, 0, len(step.Users)+len(step.Parked)+1)
			// The next page's message goes first: the relay publishes in
			// commit order, so after the users it would wait until the whole
			// page was published (5,000 users: ten relay passes) and reading
			// BI, publishing and granting would take turns; first, the next
			// page is read while this one's users are published and granted.
			// Their aggregates differ, so nothing orders one after the other.
			if !step.Done || len(step.Parked) > 0 {
				next := step.NextCursor
				if len(step.Parked) > 0 {
					next = cur.Cursor()
				}
				evs = append(evs, pageEvent(events.TopicCampaignPaged, cur.ID(), next))
			}
			emit := func(u events.UserMatched) {
				evs = append(evs, outbox.Event{Topic: events.UserMatchedTopic(u.CustomerID), AggregateID: u.CampaignID + ":" + u.CustomerID,
					Type: events.TopicUserMatched + ".v1", Payload: u})
			}
			for _, u := range step.Parked {
				emit(u)
			}
			for _, u := range step.Users {
				emit(events.UserMatched{CampaignID: cur.ID(), CustomerID: u.CustomerID, Phone: u.Phone})
			}
			return evs
		})
	if err == nil && ok {
		c.notify()
	}
	return err
}

// OnUsersMatched is the consumer of user messages, a bulk at a time: each
// user gets the campaign's coupon once, never when excluded, never beyond
// the stock. It answers one outcome per message.
func (c *Campaigns) OnUsersMatched(ctx context.Context, msgIDs []string, users []events.UserMatched) ([]Outcome, error) {
	out, err := c.store.GrantUsers(ctx, msgIDs, users, c.now(), func(cc domain.CouponCampaign, u events.UserMatched, couponID string) []outbox.Event {
		spec := cc.Spec()
		if !spec.NotifySMS || u.Phone == "" {
			return nil
		}
		return []outbox.Event{{Topic: events.TopicCouponGranted, AggregateID: cc.ID() + ":" + u.CustomerID, Type: events.TopicCouponGranted + ".v1",
			Payload: events.CouponGranted{CampaignID: cc.ID(), CustomerID: u.CustomerID, CouponID: couponID, Phone: u.Phone, Template: spec.SMSText}}}
	})
	if err == nil {
		c.notify()
	}
	return out, err
}

// OnCouponGranted sends a granted user the campaign's SMS, one recipient
// per call; the message id (campaign and user) makes a resend after a
// crash the same message at the gateway, and the count moves once.
func (c *Campaigns) OnCouponGranted(ctx context.Context, msgID string, ev events.CouponGranted) error {
	if _, err := c.sms.SendSMS(ctx, pc.SMS{MessageID: "CC-" + ev.CampaignID + "-" + ev.CustomerID, Phone: ev.Phone, Template: ev.Template,
		Params: map[string]string{"coupon_id": ev.CouponID, "ref": ev.CampaignID}}); err != nil {
		return fmt.Errorf("send the SMS of campaign %s to %s: %w", ev.CampaignID, ev.CustomerID, err)
	}
	return c.store.CountSMS(ctx, InboxClaim{Consumer: ConsumerCouponSMS, MsgID: msgID}, ev.CampaignID)
}

// GrantMatched is OnUsersMatched for the bulk subscriber, which needs only
// whether the bulk was applied.
func (c *Campaigns) GrantMatched(ctx context.Context, msgIDs []string, users []events.UserMatched) error {
	_, err := c.OnUsersMatched(ctx, msgIDs, users)
	return err
}
