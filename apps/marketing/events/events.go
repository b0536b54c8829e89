// Package events holds the topics and payloads marketing publishes (its
// contract) and its subscribers: the steps of issuing a coupon campaign
// (DOMAIN 3.2), each a message its own consumer handles exactly once.
package events

import (
	"hash/fnv"
	"strconv"
)

// Topics marketing publishes, through its outbox.
const (
	// TopicCampaignLaunched starts (or, after a resume, goes on with)
	// reading BI's export for a campaign from Cursor.
	TopicCampaignLaunched = "marketing.campaign.launched"
	// TopicCampaignPaged follows each page read: read the next from Cursor.
	TopicCampaignPaged = "marketing.campaign.paged"
	// TopicUserMatched is one user BI listed for a campaign: bind them
	// its coupon (one message per user: each takes campaign stock). It is
	// partition 0 of the user messages' topics (UserMatchedTopic).
	TopicUserMatched = "marketing.campaign.user-matched"
	// TopicCouponGranted is one coupon a campaign bound, when it notifies:
	// send the user one SMS (the SMS API takes one recipient).
	TopicCouponGranted = "marketing.campaign.coupon-granted"
)

// CampaignPage asks for BI's page of a campaign's users from Cursor; a
// message whose cursor is no longer the campaign's is stale and changes
// nothing.
type CampaignPage struct {
	CampaignID string `json:"campaign_id"`
	Cursor     string `json:"cursor"`
}

// UserMatched is one user to grant a campaign's coupon to.
type UserMatched struct {
	CampaignID string `json:"campaign_id"`
	CustomerID string `json:"customer_id"`
	Phone      string `json:"phone,omitempty"`
}

// CouponGranted is a coupon a campaign bound to a user it notifies.
type CouponGranted struct {
	CampaignID string `json:"campaign_id"`
	CustomerID string `json:"customer_id"`
	CouponID   string `json:"coupon_id"`
	Phone      string `json:"phone"`
	Template   string `json:"template"`
}

// TopicClaimQueued is a pop-up claim an instance stopping had queued but
// not issued (DOMAIN 3.3): any instance takes it into its own queues.
const TopicClaimQueued = "marketing.claim.queued"

// ClaimQueued is one recorded, still pending claim to issue.
type ClaimQueued struct {
	ClaimID    string `json:"claim_id"`
	CampaignID string `json:"campaign_id"`
	CustomerID string `json:"customer_id"`
}

// UserPartitions is how many topics a campaign's user messages are spread
// over. The sidecar hands a bulk subscription one bulk at a time and waits
// for its answer, so with one topic the grants waited on each bulk's round
// trip; a subscription per partition keeps UserPartitions bulks in flight
// per instance. The count is fixed here, not configured: every instance
// must publish to and subscribe to the same partitions, and the
// production components list each topic (components/prod, deploy/k8s).
const UserPartitions = 4

// UserMatchedTopic is the topic of customer's user message: partition 0
// is TopicUserMatched itself (messages written before there were
// partitions are still consumed there), partition k>0 is
// TopicUserMatched.k. A customer always lands in the same partition, so
// two listings of one user meet in one subscription's bulks rather than
// racing in two.
func UserMatchedTopic(customerID string) string {
	h := fnv.New32a()
	h.Write([]byte(customerID))
	return userMatchedPartition(int(h.Sum32() % UserPartitions))
}

// UserMatchedTopics lists every partition's topic, partition 0 first.
func UserMatchedTopics() []string {
	out := make([]string, UserPartitions)
	for k := range out {
		out[k] = userMatchedPartition(k)
	}
	return out
}

func userMatchedPartition(k int) string {
	if k == 0 {
		return TopicUserMatched
	}
	return TopicUserMatched + "." + strconv.Itoa(k)
}
