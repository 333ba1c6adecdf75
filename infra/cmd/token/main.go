// Command token prints a portal JWT signed with the local key, for calling the local API:
//
//	go run ./infra/cmd/token -role federation
//	go run ./infra/cmd/token -role order -order RM-01 -ttl 1h
//	go run ./infra/cmd/token -role order -order RM-01 -sub segreteria@ordine.example
//
// Only the token goes to stdout, so that TOKEN=$(make token ROLE=...) works.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/pecplatform/pec/infra/lambdahost"
)

// orderID is the contract's orderId format (shared/api.md).
var orderID = regexp.MustCompile(`^[A-Z0-9-]{2,32}$`)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "federation or order")
	order := fs.String("order", "", "the Order's id (required with -role order)")
	sub := fs.String("sub", "", "sub claim: the person the audit trail names (default local-<role>[-<order>])")
	ttl := fs.Duration("ttl", 12*time.Hour, "validity")
	keyDir := fs.String("keydir", ".local/jwt", "directory of the local signing key (created if missing)")
	issuer := fs.String("issuer", lambdahost.DefaultIssuer, "iss claim: the template's JWT issuer")
	audience := fs.String("audience", lambdahost.DefaultAudience, "aud claim: the template's JWT audience")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	claims, err := claimsFor(*role, *order, *issuer, *audience)
	if err == nil && *sub != "" {
		claims["sub"] = *sub
	}
	if err == nil && *ttl <= 0 {
		err = errors.New("-ttl must be positive")
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(stderr, "token:", err)
		fs.Usage()
		return 2
	}
	tok, err := lambdahost.SignToken(*keyDir, claims, *ttl)
	if err != nil {
		fmt.Fprintln(stderr, "token:", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

func claimsFor(role, order, issuer, audience string) (map[string]any, error) {
	claims := map[string]any{"iss": issuer, "aud": audience, "role": role}
	switch role {
	case "federation":
		if order != "" {
			return nil, errors.New("-order goes with -role order only")
		}
		claims["sub"] = "local-federation"
	case "order":
		if !orderID.MatchString(order) {
			return nil, fmt.Errorf("-role order needs -order ID matching %s", orderID)
		}
		claims["order"] = order
		claims["sub"] = "local-order-" + order
	default:
		return nil, fmt.Errorf("-role must be federation or order, not %q", role)
	}
	return claims, nil
}
