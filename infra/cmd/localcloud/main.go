// Command localcloud is `make run`: the whole platform on this machine, on the ports api.md
// names, until Ctrl-C.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/infra/providersim"
)

func port(env string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil && v > 0 {
		return v
	}
	return def
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	delay, reject, err := providersim.OptionsFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	seed, _ := strconv.ParseInt(os.Getenv("FAULTS_SEED"), 10, 64)
	cfg := localcloud.Config{
		Faults:         os.Getenv("FAULTS"),
		FaultsSeed:     seed,
		ProviderDelay:  delay,
		ProviderReject: reject,
		APIPort:        port("PORT", 3000),
		DynamoDBPort:   port("DYNAMODB_PORT", 8000),
		MotoPort:       port("MOTO_SERVER_PORT", 5050),
		SESPort:        port("SES_PORT", 8005),
		MailpitPort:    port("MAILPIT_PORT", 8025),
		SMTPPort:       port("SMTP_PORT", 1025),
		ProviderPort:   port("PROVIDER_PORT", 8010),
		Logger:         slog.New(slog.NewJSONHandler(os.Stdout, nil)),
	}
	fmt.Println("Starting the local cloud (DynamoDB Local, moto, SES stand-in, mailpit, the host)...")
	start := time.Now()
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	c, err := localcloud.Start(startCtx, cfg)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nThe local cloud did not start: %v\n", err)
		fmt.Fprintln(os.Stderr, "If a port is taken, stop what uses it or choose others: PORT, DYNAMODB_PORT, MOTO_SERVER_PORT, SES_PORT, MAILPIT_PORT, SMTP_PORT.")
		os.Exit(1)
	}
	defer c.Close()

	var b strings.Builder
	fmt.Fprintf(&b, "\nReady in %.1fs.\n\n", time.Since(start).Seconds())
	fmt.Fprintf(&b, "  API (HttpApi routes of template.yaml)  %s\n", c.APIURL)
	fmt.Fprintf(&b, "  Member inbox (SES v2 stand-in)         %s   JSON: %s/store\n", c.SESURL, c.SESURL)
	fmt.Fprintf(&b, "  Outgoing PEC inbox (mailpit)           %s   SMTP: %s\n", c.MailpitURL, c.SMTPAddr)
	fmt.Fprintf(&b, "  DynamoDB Local                         %s   table: %s\n", c.DynamoDBURL, strings.Join(c.Host.Tables(), ", "))
	fmt.Fprintf(&b, "  Step Functions (moto)                  %s\n", c.MotoURL)
	fmt.Fprintf(&b, "  PEC provider stand-in                  %s   (PROVIDER_DELAY_MS, PROVIDER_REJECT)\n", c.ProviderURL)
	fmt.Fprintf(&b, "  INI-PEC stand-in (delivered files)     GET %s/_local/inipec/files\n", c.APIURL)
	fmt.Fprintf(&b, "  Payment service stand-in (pay here)    POST %s/_local/payments\n", c.APIURL)
	fmt.Fprintf(&b, "  S3 (moto, through the API port)        buckets: %s\n", strings.Join(c.Host.Buckets(), ", "))
	fmt.Fprintf(&b, "  Run a schedule now                     POST %s/_local/run/{LogicalId}\n", c.APIURL)
	fmt.Fprintf(&b, "  Invoke a function                      make invoke FN=<LogicalId> EVENT=events/<file>.json\n")
	if cfg.Faults != "" {
		fmt.Fprintf(&b, "  Fault injection (FAULTS=%s, seed %d)  GET %s/_local/faults\n", cfg.Faults, seed, c.APIURL)
	}
	fmt.Fprintf(&b, "\nRoutes:\n")
	routes := c.Host.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	for _, r := range routes {
		fmt.Fprintf(&b, "  %-55s %s\n", r.Method+" "+r.Path, r.Function)
	}
	fmt.Fprintf(&b, "\nA token: make token ROLE=federation   (or ROLE=order ORDER=<id>)\n")
	fmt.Fprintf(&b, "Emulator logs: .local/logs/%d/   Ctrl-C stops everything.\n\n", cfg.APIPort)
	fmt.Print(b.String())
	<-ctx.Done()
	fmt.Println("\nStopping...")
}
