// Command localcloud is `make run`: the whole platform on this machine, on the ports api.md
// names, until Ctrl-C.
//
// The template's parameters are set as `sam local --parameter-overrides` sets them:
// PARAMETER_OVERRIDES='InipecSettleSeconds=1 ActivationReminderSeconds=60' (or
// 'ParameterKey=K,ParameterValue=V ...'); FAST=1 applies the tests' fast ones
// (localcloud.FastParameters) first, the overrides on top.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pecplatform/pec/infra/emulators"
	"github.com/pecplatform/pec/infra/lambdahost"
	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/infra/providersim"
)

func port(getenv func(string) string, env string, def int) int {
	if v, err := strconv.Atoi(getenv(env)); err == nil && v > 0 {
		return v
	}
	return def
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))
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
	printReady(os.Stdout, c, cfg, time.Since(start))
	<-ctx.Done()
	fmt.Println("\nStopping...")
}

// config reads make run's settings from the environment. The template's parameters are
// checked here, before anything starts: a misspelt name is an error that lists the known ones.
func config(getenv func(string) string) (localcloud.Config, error) {
	delay, reject, err := providersim.OptionsFromEnv(getenv)
	if err != nil {
		return localcloud.Config{}, err
	}
	params, err := parameters(getenv)
	if err != nil {
		return localcloud.Config{}, err
	}
	root, err := emulators.FindRoot()
	if err != nil {
		return localcloud.Config{}, err
	}
	if _, err := lambdahost.TemplateParameters(filepath.Join(root, "template.yaml"), params); err != nil {
		var unknown *lambdahost.UnknownParametersError
		if errors.As(err, &unknown) {
			return localcloud.Config{}, fmt.Errorf("PARAMETER_OVERRIDES: %w", err)
		}
		return localcloud.Config{}, err
	}
	seed, _ := strconv.ParseInt(getenv("FAULTS_SEED"), 10, 64)
	return localcloud.Config{
		Root:           root,
		Parameters:     params,
		Faults:         getenv("FAULTS"),
		FaultsSeed:     seed,
		ProviderDelay:  delay,
		ProviderReject: reject,
		ProviderKind:   getenv("PROVIDER"),
		APIPort:        port(getenv, "PORT", 3000),
		DynamoDBPort:   port(getenv, "DYNAMODB_PORT", 8000),
		MotoPort:       port(getenv, "MOTO_SERVER_PORT", 5050),
		SESPort:        port(getenv, "SES_PORT", 8005),
		MailpitPort:    port(getenv, "MAILPIT_PORT", 8025),
		SMTPPort:       port(getenv, "SMTP_PORT", 1025),
		ProviderPort:   port(getenv, "PROVIDER_PORT", 8010),
	}, nil
}

// parameters are the template parameters make run overrides: FAST=1's, then
// PARAMETER_OVERRIDES's on top.
func parameters(getenv func(string) string) (map[string]string, error) {
	out := map[string]string{}
	if v := getenv("FAST"); v != "" {
		fast, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("FAST=%q: want 1 (the tests' fast parameters) or 0", v)
		}
		if fast {
			for k, v := range localcloud.FastParameters {
				out[k] = v
			}
		}
	}
	overrides, err := localcloud.ParseParameterOverrides(getenv("PARAMETER_OVERRIDES"))
	if err != nil {
		return nil, fmt.Errorf("PARAMETER_OVERRIDES: %w", err)
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out, nil
}

func printReady(w io.Writer, c *localcloud.Cloud, cfg localcloud.Config, took time.Duration) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nReady in %.1fs.\n\n", took.Seconds())
	fmt.Fprintf(&b, "  API (HttpApi routes of template.yaml)  %s\n", c.APIURL)
	fmt.Fprintf(&b, "  Member inbox (SES v2 stand-in)         %s   JSON: %s/store\n", c.SESURL, c.SESURL)
	fmt.Fprintf(&b, "  Outgoing PEC inbox (mailpit)           %s   SMTP: %s\n", c.MailpitURL, c.SMTPAddr)
	fmt.Fprintf(&b, "  DynamoDB Local                         %s   table: %s\n", c.DynamoDBURL, strings.Join(c.Host.Tables(), ", "))
	fmt.Fprintf(&b, "  Step Functions (moto)                  %s\n", c.MotoURL)
	fmt.Fprintf(&b, "  PEC provider stand-in (%-9s)      %s   (PROVIDER, PROVIDER_DELAY_MS, PROVIDER_REJECT)\n", c.ProviderKind, c.ProviderURL)
	fmt.Fprintf(&b, "  INI-PEC stand-in (delivered files)     GET %s/_local/inipec/files\n", c.APIURL)
	fmt.Fprintf(&b, "  Payment service stand-in (pay here)    POST %s/_local/payments   page: %s/_local/checkout\n", c.APIURL, c.APIURL)
	fmt.Fprintf(&b, "  Members' self-service pages           %s/adesione/{offerCode}\n", c.APIURL)
	fmt.Fprintf(&b, "  S3 (moto, through the API port)        buckets: %s\n", strings.Join(c.Host.Buckets(), ", "))
	fmt.Fprintf(&b, "  Run a schedule now                     POST %s/_local/run/{LogicalId}\n", c.APIURL)
	fmt.Fprintf(&b, "  Invoke a function                      make invoke FN=<LogicalId> EVENT=events/<file>.json\n")
	if cfg.Faults != "" {
		fmt.Fprintf(&b, "  Fault injection (FAULTS=%s, seed %d)  GET %s/_local/faults\n", cfg.Faults, cfg.FaultsSeed, c.APIURL)
	}
	fmt.Fprintf(&b, "\nRoutes:\n")
	routes := c.Host.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	for _, r := range routes {
		fmt.Fprintf(&b, "  %-55s %s\n", r.Method+" "+r.Path, r.Function)
	}
	b.WriteString("\n")
	printParameters(&b, c.Host.Parameters())
	fmt.Fprintf(&b, "\nA token: make token ROLE=federation   (or ROLE=order ORDER=<id>)\n")
	fmt.Fprintf(&b, "Emulator logs: .local/logs/%d/   Ctrl-C stops everything.\n\n", cfg.APIPort)
	fmt.Fprint(w, b.String())
}

// printParameters lists the parameters whose value is not the template's default: name, value,
// default.
func printParameters(w io.Writer, params []lambdahost.Parameter) {
	var changed []lambdahost.Parameter
	for _, p := range params {
		if p.Changed() {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		fmt.Fprintln(w, "Parameters: template.yaml's defaults (PARAMETER_OVERRIDES='Name=Value ...' or FAST=1 change them).")
		return
	}
	fmt.Fprintln(w, "Parameters that differ from template.yaml's defaults:")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "  name\tvalue\tdefault")
	for _, p := range changed {
		def := shown(p.Default)
		if !p.HasDefault {
			def = "(none)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Name, shown(p.Value), def)
	}
	tw.Flush()
}

// shown makes an empty value visible.
func shown(v string) string {
	if v == "" {
		return `""`
	}
	return v
}
