// Command documentuploads is DocumentUploadsFunction: see template.yaml for what invokes it.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pecplatform/pec/shared/wire"
	"github.com/pecplatform/pec/shared/wire/requests"
)

func main() {
	ctx := context.Background()
	env := wire.Must(wire.Load(ctx, os.Getenv)) // configuration
	h := wire.Must(requests.Uploads(ctx, env))  // adapters -> use cases -> handler
	lambda.Start(h)
}
