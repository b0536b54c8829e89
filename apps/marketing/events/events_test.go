package events

import (
	"fmt"
	"slices"
	"testing"
)

// Every customer's user message has one topic, always the same, among the
// partitions subscribed to, partition 0 the topic from before there were
// partitions; and customers spread over every partition.
func TestUserMatchedTopicIsOnePartitionPerCustomer(t *testing.T) {
	topics := UserMatchedTopics()
	if len(topics) != UserPartitions || topics[0] != TopicUserMatched || topics[1] != TopicUserMatched+".1" {
		t.Fatalf("partitions %v", topics)
	}
	per := map[string]int{}
	for n := range 4_000 {
		c := fmt.Sprintf("C%07d", n)
		topic := UserMatchedTopic(c)
		if topic != UserMatchedTopic(c) || !slices.Contains(topics, topic) {
			t.Fatalf("customer %s: topic %s, not one of %v or not stable", c, topic, topics)
		}
		per[topic]++
	}
	for _, topic := range topics {
		if per[topic] < 4_000/UserPartitions/2 {
			t.Errorf("partition %s got %d of 4,000 customers: %v", topic, per[topic], per)
		}
	}
}
