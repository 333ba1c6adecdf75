// Command invoke runs one function of template.yaml with an event file, as `sam local invoke`
// does: through a running `make run` if there is one (PORT, default 3000), else through a
// local cloud it starts for the call. `make invoke FN=<LogicalId> EVENT=events/<file>.json`.
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
)

func main() {
	fn := flag.String("fn", "", "the function's logical id in template.yaml, e.g. OrdersFunction")
	event := flag.String("event", "", "the event file, e.g. events/orders-get.json")
	flag.Parse()
	if err := run(*fn, *event); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(fn, eventFile string) error {
	if fn == "" || eventFile == "" {
		return errors.New("usage: make invoke FN=<LogicalId> EVENT=events/<file>.json")
	}
	payload, err := os.ReadFile(eventFile)
	if err != nil {
		return err
	}
	if !json.Valid(payload) {
		return fmt.Errorf("%s is not JSON", eventFile)
	}
	base := "http://127.0.0.1:" + cmp.Or(os.Getenv("PORT"), "3000")
	if !answers(base) {
		fmt.Fprintln(os.Stderr, "invoke: no local cloud on "+base+"; starting one for this call (make run keeps one going)")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		c, err := localcloud.Start(ctx, localcloud.Config{})
		if err != nil {
			return err
		}
		defer c.Close()
		base = c.APIURL
	}
	resp, err := http.Post(base+"/2015-03-31/functions/"+fn+"/invocations", "application/json", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		body = pretty.Bytes()
	}
	fmt.Println(string(body))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s is not a function of template.yaml", fn)
	case resp.Header.Get("X-Amz-Function-Error") != "":
		return fmt.Errorf("the function failed (%s)", resp.Header.Get("X-Amz-Function-Error"))
	case resp.StatusCode >= 300:
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// answers reports whether a local cloud answers at base.
func answers(base string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(base + "/_local/inipec/files")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
