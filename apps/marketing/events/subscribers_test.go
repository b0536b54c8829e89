package events

import (
	"os"
	"strconv"
	"testing"

	"sigs.k8s.io/yaml"
)

// On Redis Streams a bulk being gathered holds one component worker per
// message (Dapr's default bulk subscriber), so a default bulk above the
// local component's concurrency never fills: every bulk would wait out
// userWaitMs. The workers are the component's, shared by every
// partition's subscription: two bulks per partition must fit, the next
// gathering while one is answered.
func TestDefaultUserBulkFitsLocalPubSubConcurrency(t *testing.T) {
	raw, err := os.ReadFile("../../../components/local/pubsub.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Spec struct {
			Metadata []struct{ Name, Value string }
		}
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	concurrency := -1
	for _, m := range c.Spec.Metadata {
		if m.Name == "concurrency" {
			if concurrency, err = strconv.Atoi(m.Value); err != nil {
				t.Fatalf("concurrency %q: %v", m.Value, err)
			}
		}
	}
	if concurrency < 0 {
		t.Fatal("components/local/pubsub.yaml sets no concurrency")
	}
	if 2*DefaultUserBulk*UserPartitions > concurrency {
		t.Fatalf("two bulks of DefaultUserBulk %d for each of %d partitions exceed the local pubsub's concurrency %d: the next cannot gather while one is answered",
			DefaultUserBulk, UserPartitions, concurrency)
	}
}
