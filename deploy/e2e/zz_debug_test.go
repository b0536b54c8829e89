package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestZZHold(t *testing.T) {
	if os.Getenv("HOLD") == "" {
		t.Skip()
	}
	p, _ := st.Ports("gateway")
	fmt.Println("GRAPHQL", st.GraphQLURL(), "RUNDIR", st.RunDir(), "GWDAPR", p.DaprHTTP)
	for _, a := range st.Apps() {
		fmt.Println("APP", a, st.AppAddr(a))
	}
	tok, _ := st.Token("CUSTOMER", "C0002")
	fmt.Println("TOKEN", tok)
	time.Sleep(10 * time.Minute)
}
